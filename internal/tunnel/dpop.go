package tunnel

import (
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pingedge/pingedge/internal/dpopkey"
)

// DPoP (RFC 9449, docs/dpop.md): with Options.DPoP set, the token goes out as
// `Authorization: DPoP <token>` with a fresh proof per request, signed for the method and the
// upstream URL the tunnel actually calls (htu, without query), the token's hash (ath, computed
// once per token with its Authorization value) and the resource server's latest nonce. A proof
// is one ECDSA P-256 signature, tens of microseconds; the rest of it costs about 2 µs
// (docs/performance.md, "DPoP in the tunnel").

// dpopScheme is the Authorization scheme for a DPoP-bound token (RFC 9449 §7.1).
const dpopScheme = "DPoP "

// dpopState is the tunnel's DPoP side: the key and the last nonce a resource server sent.
type dpopState struct {
	signer *dpopkey.Signer
	now    func() time.Time
	nonce  atomic.Pointer[string] // the last DPoP-Nonce (RFC 9449 §9), shared by all upstreams
}

// sign puts a proof for out on it. c.authz is "DPoP <token>"; c.ath, when set, is the token's
// hash (the retries, which are rare, leave it to be computed here). A failure to sign (no
// randomness) leaves the request without a proof: the upstream then refuses it, nothing leaks.
func (d *dpopState) sign(out *http.Request, c credential) {
	nonce := ""
	if n := d.nonce.Load(); n != nil {
		nonce = *n
	}
	ath := c.ath
	if ath == "" {
		ath = dpopkey.TokenHash(strings.TrimPrefix(c.authz, dpopScheme))
	}
	proof, err := d.signer.ProofWithHash(out.Method, htu(out.URL), ath, nonce, d.now())
	if err != nil {
		delete(out.Header, "Dpop")
		return
	}
	out.Header["Dpop"] = []string{proof}
}

// wantsNonce reports a resource server's use_dpop_nonce answer (RFC 9449 §9) and keeps the nonce.
func (d *dpopState) wantsNonce(resp *http.Response) bool {
	n := resp.Header.Get("DPoP-Nonce")
	if n == "" || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "use_dpop_nonce") {
		return false
	}
	d.nonce.Store(&n)
	return true
}

// htu is the URL a proof names: scheme, host and path, no query or fragment (RFC 9449 §4.2).
func htu(u *url.URL) string {
	return u.Scheme + "://" + u.Host + u.EscapedPath()
}

// scheme is the Authorization scheme the tunnel uses.
func (d *dpopState) scheme() string {
	if d == nil {
		return "Bearer "
	}
	return dpopScheme
}
