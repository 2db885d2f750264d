package doctor

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/pingedge/pingedge/internal/config"
	"github.com/pingedge/pingedge/internal/login"
	"golang.org/x/net/http/httpproxy"
)

func checkBrowser(env Env) Check {
	c := Check{Name: "browser", Status: Pass}
	switch {
	case env.Getenv("BROWSER") != "":
		c.Detail = "$BROWSER is set: login opens it (authorization code + PKCE)"
	case login.CanOpenBrowser(env.GOOS, env.Getenv):
		c.Detail = "a browser can be opened: login uses authorization code + PKCE"
	default:
		c.Status = Warn
		c.Detail = "no display and no $BROWSER (SSH session or container): login uses the device flow"
		c.Fix = "fine as it is; to use PKCE, set BROWSER or forward a display"
	}
	return c
}

func checkProxy(env Env) Check {
	c := Check{Name: "proxy", Status: Pass}
	cfg := httpproxy.Config{
		HTTPProxy:  firstEnv(env, "HTTP_PROXY", "http_proxy"),
		HTTPSProxy: firstEnv(env, "HTTPS_PROXY", "https_proxy"),
		NoProxy:    firstEnv(env, "NO_PROXY", "no_proxy"),
	}
	if cfg.HTTPProxy == "" && cfg.HTTPSProxy == "" {
		c.Detail = "no proxy variables set: connections go direct"
		return c
	}
	c.Detail = fmt.Sprintf("HTTPS_PROXY=%q NO_PROXY=%q", redactURL(cfg.HTTPSProxy), cfg.NoProxy)
	if env.Issuer == "" {
		return c
	}
	u, err := url.Parse(env.Issuer)
	if err != nil {
		return c
	}
	p, err := cfg.ProxyFunc()(u)
	switch {
	case err != nil:
		c.Status, c.Fix = Fail, "fix the proxy URL: "+err.Error()
	case p != nil:
		c.Detail += "; the issuer is reached through " + redactURL(p.String())
	default:
		c.Detail += "; the issuer is reached directly (NO_PROXY)"
	}
	return c
}

// redactURL drops a proxy URL's password so doctor output can be pasted into a ticket.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	return u.Redacted()
}

func checkCA(env Env) Check {
	c := Check{Name: "ca certificates", Status: Pass, Detail: "system roots"}
	file := env.Getenv("SSL_CERT_FILE")
	if file == "" {
		if dir := env.Getenv("SSL_CERT_DIR"); dir != "" {
			c.Detail = "SSL_CERT_DIR=" + dir
		}
		return c
	}
	b, err := env.ReadFile(file)
	if err != nil {
		c.Status, c.Detail = Fail, "SSL_CERT_FILE="+file+" cannot be read: "+err.Error()
		c.Fix = "point SSL_CERT_FILE at a PEM bundle, or unset it to use the system roots"
		return c
	}
	if !x509.NewCertPool().AppendCertsFromPEM(b) {
		c.Status, c.Detail = Fail, "SSL_CERT_FILE="+file+" holds no PEM certificate"
		c.Fix = "point SSL_CERT_FILE at a PEM bundle (-----BEGIN CERTIFICATE-----)"
		return c
	}
	c.Detail = "SSL_CERT_FILE=" + file
	return c
}

// checkStateDir reports whether the state directory, where sessions and cached access tokens
// live, is private to the user (docs/security.md, "state directory").
func checkStateDir(env Env) Check {
	c := Check{Name: "state directory", Status: Pass, Detail: env.StateDir + " (private to you)"}
	if env.StateDirErr == nil {
		return c
	}
	c.Status, c.Detail = Fail, env.StateDirErr.Error()
	var unsafe *config.UnsafeError
	if errors.As(env.StateDirErr, &unsafe) {
		c.Detail, c.Fix = unsafe.Problem+": pingedge will not read or write it", unsafe.Fix
	}
	return c
}

func checkToken(ctx context.Context, env Env) Check {
	c := Check{Name: "session"}
	if env.StateDirErr != nil {
		c.Status, c.Detail = Skip, "not read: the state directory is not safe to use (see above)"
		return c
	}
	sess, err := login.LoadSession(env.StateDir, env.Profile)
	if err != nil || sess == nil {
		c.Status, c.Detail = Warn, fmt.Sprintf("profile %q is not logged in", env.Profile)
		c.Fix = "pingedge login --profile " + env.Profile
		return c
	}
	if env.Store != nil {
		if _, err := env.Store.Get(ctx, env.Profile); err != nil {
			c.Status, c.Detail = Fail, "no usable refresh token: "+err.Error()
			c.Fix = "pingedge login --profile " + env.Profile
			return c
		}
	}
	c.Status = Pass
	who := sess.Username
	if who == "" {
		who = sess.Subject
	}
	c.Detail = fmt.Sprintf("%s at %s; access token %s; refresh token in %s", who, sess.Issuer,
		expiryWords(sess.Access.Expiry, env.Now()), sess.Store)
	return c
}

func expiryWords(exp, now time.Time) string {
	if exp.IsZero() {
		return "without expiry"
	}
	d := exp.Sub(now).Round(time.Second)
	if d > 0 {
		return "expires in " + d.String()
	}
	return "expired " + (-d).String() + " ago (refreshed on next use)"
}

func firstEnv(env Env, names ...string) string {
	for _, n := range names {
		if v := strings.TrimSpace(env.Getenv(n)); v != "" {
			return v
		}
	}
	return ""
}
