// Package verify is pingedge's edge engine: it composes the pieces below into the per-request
// decision, identity headers, the audit record, the validation-result cache and metrics.
//
//	verify/jose    what a token and a key are: compact JWS, JWK, strict JSON, claims, algorithms
//	verify/keyset  where keys come from: the remote key set (cooldown, stale-if-error), discovery
//	verify/policy  what is allowed: the YAML policy language, path normalisation and rule matching
//
// It runs unchanged in the CLI, in `pingedge edge serve` and, compiled to wasm, in a Cloudflare
// Worker, so it and its packages import only the standard library and a YAML parser, and every
// network access goes through the injectable keyset.Fetcher. It never trusts a key or URL
// carried by a token (jku, x5u, x5c, jwk headers are ignored, RFC 8725 §3.10).
// docs/architecture.md describes the packages and their import rules.
package verify
