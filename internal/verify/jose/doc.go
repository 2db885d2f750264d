// Package jose is what a token and a key are, for pingedge's verifier: strict compact JWS
// parsing (RFC 7515), JWK and JWKS parsing with pingedge's key limits (RFC 7517), the
// signature algorithms it accepts (RFC 7518), a JSON scanner that refuses duplicate member
// names, the registered claims (RFC 7519), the KeySet interface with a static implementation,
// and the sentinel errors every verification failure wraps.
//
// It imports only the standard library, so it runs in the Cloudflare Worker's wasm.
package jose
