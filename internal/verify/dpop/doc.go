// Package dpop checks DPoP proofs (RFC 9449) for the edge core: the proof's JWS goes through
// the same parser and key code as access tokens (internal/verify/jose), then the §4.3 checks.
// It has no net/http so the Worker (js/wasm) and wasip1 builds keep it.
package dpop
