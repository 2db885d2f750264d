// Package edgehttp is the one HTTP request path of the verification core: decide a request,
// answer a refusal, and rewrite an allowed request for whatever serves it next. The public
// middleware (edgeauth) and the gateway of `pingedge edge serve` (internal/edge) are both
// built on it, so they cannot drift: the same request URL for a DPoP proof's htu, the same
// refusal (challenge, DPoP-Nonce, no-store, no read of an unwanted body), the same headers
// stripped and set, the same normalised path for the origin.
//
// It is internal on purpose: edgeauth's exported API stays small, and the hooks the gateway
// needs (an engine that policy reloads swap, a JSON audit sink) are fields here, not there.
package edgehttp
