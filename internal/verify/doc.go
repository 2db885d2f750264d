// Package verify is pingedge's edge verification core: JWKS key sets, strict compact-JWS/JWT
// verification, the YAML policy, the per-request decision, identity headers, the audit record
// and the validation-result cache.
//
// It runs unchanged in the CLI, in `pingedge edge serve` and, compiled to wasm, in a Cloudflare
// Worker, so it imports only the standard library and a YAML parser, and every network access
// goes through the injectable Fetcher. It never trusts a key or URL carried by a token (jku,
// x5u, x5c, jwk headers are ignored, RFC 8725 §3.10).
package verify
