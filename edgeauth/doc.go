// Package edgeauth puts pingedge's verification core inside a Go service: an http.Handler
// middleware that decides each request with the same engine and policy file as
// `pingedge edge serve`, the Lambda authorizer and the Cloudflare Worker.
//
// For each request it verifies the bearer token (signature, issuer, audience, expiry, against
// the issuer's JWKS, fetched once and refreshed with the engine's cooldown and stale-if-error
// rules), applies the policy's rules to the method and normalised path, and then either
//
//   - answers 401 (with the RFC 6750 WWW-Authenticate challenge, and a DPoP-Nonce when the
//     policy asks for one), 403, 400 or 503 itself, closing the connection rather than reading
//     a body it refused, or
//   - calls the next handler with Authorization and every client-sent copy of the policy's
//     identity headers removed, the verified identity headers set, the request path replaced by
//     the normalised path the rules saw, and the verified claims in the request context
//     (ClaimsFromContext).
//
// With dpop: allowed or required in the policy, a DPoP-bound token (RFC 9449) passes with a
// proof whose htu is the URL the request arrived on: https when the server terminates TLS
// (r.TLS set), http otherwise, the Host the client sent and the path. Behind a proxy that
// terminates TLS, clients' https proofs are therefore refused; terminate TLS in the service.
//
// This is the request path `pingedge edge serve` runs as a gateway, the same code, which adds
// only the reverse proxy around it.
//
// One audit record per decision goes to the caller's *slog.Logger, with the attribute names of
// the JSON line `edge serve` writes.
//
// The API is small on purpose, in the spirit of go-oidc: New builds a Middleware from a
// policy, Handler wraps a handler, ClaimsFromContext reads the result.
//
// # Compatibility
//
// edgeauth follows semantic versioning with the pingedge module: within a major version,
// exported names keep their meaning and signatures, the policy language only gains fields, and
// a request the policy allowed is not refused by a minor release (a security fix excepted,
// named in the release notes).
package edgeauth
