// Package keyset is where verification keys come from: a RemoteKeySet that fetches a JWKS
// (RFC 7517 §5), finds its URL by OpenID Connect discovery when the policy names none, refreshes
// on Cache-Control max-age and on an unknown kid with a cooldown, and keeps the keys it has when
// the issuer is down (stale-if-error). Every fetch goes through a Fetcher: net/http natively,
// the host's fetch() in the Worker (no net/http is linked under js or wasip1).
package keyset
