package doctor

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/pingedge/pingedge/internal/login"
	"github.com/pingedge/pingedge/internal/verify/keyset"
)

// checkIssuer fetches discovery and the JWKS, and compares the issuer's Date header with the
// local clock (tokens are checked with a 30 s leeway by default).
func checkIssuer(ctx context.Context, env Env) []Check {
	if env.Issuer == "" {
		return []Check{{Name: "issuer", Status: Skip, Detail: "no issuer configured",
			Fix: "pingedge login --issuer URL --client-id ID (or --pingone-env ID --region R)"}}
	}
	md, err := login.Discover(ctx, env.HTTP, env.Issuer)
	if err != nil {
		return []Check{{Name: "issuer discovery", Status: Fail, Detail: err.Error(),
			Fix: "check the issuer URL (it must serve /.well-known/openid-configuration), your network and proxy settings"}}
	}
	out := []Check{{Name: "issuer discovery", Status: Pass, Detail: md.Issuer}}
	keys, date, err := fetchJWKS(ctx, env.HTTP, md.JWKSURI)
	if err != nil {
		return append(out, Check{Name: "issuer keys", Status: Fail, Detail: err.Error(),
			Fix: "the issuer's jwks_uri must be reachable from here: check proxy and firewall"})
	}
	out = append(out, Check{Name: "issuer keys", Status: Pass, Detail: fmt.Sprintf("%d keys at %s", keys, md.JWKSURI)})
	return append(out, checkSkew(date, env.Now()))
}

// fetchJWKS loads the key set with the edge's own keyset.RemoteKeySet (same fetcher, size bound,
// JWK limits), so "keys reachable" means "keys the edge would use". The fetcher is wrapped only
// to keep the response's Date header for the clock check.
func fetchJWKS(ctx context.Context, hc *http.Client, uri string) (keys int, date time.Time, err error) {
	f := &dateFetcher{f: &keyset.HTTPFetcher{Client: hc, Timeout: 15 * time.Second}}
	ks := keyset.NewRemoteKeySet(uri, keyset.RemoteOptions{Fetcher: f})
	if err := ks.Refresh(ctx); err != nil {
		return 0, date, fmt.Errorf("keys at %s are not usable: %w", uri, err)
	}
	return ks.Status().Keys, f.date, nil
}

// dateFetcher remembers the Date header of the last response (RFC 9110 §6.6.1).
type dateFetcher struct {
	f    keyset.Fetcher
	date time.Time
}

func (d *dateFetcher) Fetch(ctx context.Context, u string) (*keyset.FetchResult, error) {
	res, err := d.f.Fetch(ctx, u)
	if err == nil {
		d.date, _ = http.ParseTime(http.Header(res.Header).Get("Date"))
	}
	return res, err
}

func checkSkew(issuerDate, now time.Time) Check {
	c := Check{Name: "clock"}
	if issuerDate.IsZero() {
		c.Status, c.Detail = Skip, "the issuer sent no Date header"
		return c
	}
	// Date has one-second resolution: differences below 2 s are noise.
	skew := now.Sub(issuerDate).Round(time.Second)
	abs := skew
	if abs < 0 {
		abs = -abs
	}
	dir := "ahead of"
	if skew < 0 {
		dir = "behind"
	}
	switch {
	case abs <= 2*time.Second:
		c.Status, c.Detail = Pass, "in step with the issuer"
	case abs <= MaxSkew:
		c.Status, c.Detail = Warn, fmt.Sprintf("%s %s the issuer (within the %s leeway)", abs, dir, MaxSkew)
		c.Fix = "enable time sync (timedatectl set-ntp true)"
	default:
		c.Status, c.Detail = Fail, fmt.Sprintf("%s %s the issuer: tokens will look %s", abs, dir, skewEffect(skew))
		c.Fix = "fix the system clock (timedatectl set-ntp true, or w32tm /resync on Windows)"
	}
	return c
}

func skewEffect(skew time.Duration) string {
	if skew > 0 {
		return "expired early"
	}
	return "not yet valid"
}
