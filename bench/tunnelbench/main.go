// Command tunnelbench runs the fixed parts of bench/tunnel.sh: the upstream both proxies forward
// to, the bare proxy that is the baseline (httputil.ReverseProxy adding a fixed Authorization
// header, what an engineer would write by hand), and the in-process OpenID provider that
// `pingedge login` signs in against. It is a benchmark helper, not part of pingedge.
//
//	tunnelbench upstream ADDR [DELAY]    (DELAY, e.g. 2ms: answer that much later, a remote API)
//	tunnelbench bare ADDR UPSTREAM_URL TOKEN_FILE
//	tunnelbench issuer ADDR TOKEN_FILE   (prints the issuer URL and client ID, writes a 1 h token)
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/pingedge/pingedge/bench/internal/benchkit"
	"github.com/pingedge/pingedge/internal/devop"
	"github.com/pingedge/pingedge/internal/verify/dpop"
)

func main() { benchkit.Main("tunnelbench", run) }

func run(ctx context.Context, args []string) error {
	switch {
	case (len(args) == 2 || len(args) == 3) && args[0] == "upstream":
		var delay time.Duration
		if len(args) == 3 {
			d, err := time.ParseDuration(args[2])
			if err != nil || d < 0 {
				return fmt.Errorf("upstream delay %q: want a duration such as 2ms", args[2])
			}
			delay = d
		}
		return benchkit.Serve(ctx, args[1], upstream(delay))
	case len(args) == 4 && args[0] == "bare":
		return bare(ctx, args[1], args[2], args[3])
	case len(args) == 3 && args[0] == "issuer":
		return issuer(ctx, args[1], args[2])
	}
	return errors.New("usage: tunnelbench upstream ADDR [DELAY] | bare ADDR UPSTREAM_URL TOKEN_FILE | issuer ADDR TOKEN_FILE")
}

// upstream answers a small JSON document to a request with a bearer token, or a DPoP token with
// a proof, after delay. It does not verify tokens or proofs on the measured path (that is the
// edge's cost, not the tunnel's); GET /check does, with the edge's own proof checker, so the
// script can show the DPoP tunnel sends proofs the edge accepts. X-Bench-Scheme says which
// scheme arrived.
func upstream(delay time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		if scheme != "Bearer" && (scheme != "DPoP" || r.Header.Get("DPoP") == "") {
			http.Error(w, "no bearer token, and no DPoP token with a proof", http.StatusUnauthorized)
			return
		}
		if r.URL.Path == "/check" && scheme == "DPoP" {
			if err := checkProof(r, tok); err != nil {
				http.Error(w, err.Error(), http.StatusUnauthorized)
				return
			}
		}
		if delay > 0 {
			time.Sleep(delay)
		}
		w.Header().Set("X-Bench-Scheme", scheme)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"items":[1,2,3]}`)
	})
}

// checkProof runs the edge's proof check for r against the key the token is bound to (its
// cnf.jkt, read without verifying the token: the provider issued it to this script's login).
func checkProof(r *http.Request, tok string) error {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return errors.New("the DPoP token is not a JWT")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return errors.New("the DPoP token's payload is not base64url")
	}
	var c struct {
		Cnf struct {
			JKT string `json:"jkt"`
		} `json:"cnf"`
	}
	if err := json.Unmarshal(payload, &c); err != nil || c.Cnf.JKT == "" {
		return errors.New("the DPoP token has no cnf.jkt: it is not bound")
	}
	e := dpop.Expect{Method: r.Method, URL: "http://" + r.Host + r.URL.Path, AccessToken: tok, JKT: c.Cnf.JKT}
	_, err = dpop.Check(r.Header.Get("DPoP"), e, dpop.Config{Lifetime: time.Minute, Leeway: 5 * time.Second})
	return err
}

// bare is the baseline: Go's reverse proxy with the tunnel's upstream connection pool size and
// copy-buffer pool, so neither is what the comparison measures.
func bare(ctx context.Context, addr, upstream, tokenFile string) error {
	u, err := url.Parse(upstream)
	if err != nil {
		return err
	}
	tok, err := os.ReadFile(tokenFile)
	if err != nil {
		return err
	}
	auth := "Bearer " + strings.TrimSpace(string(tok))
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns, t.MaxIdleConnsPerHost = 256, 64
	return benchkit.Serve(ctx, addr, &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u)
			pr.Out.Header.Set("Authorization", auth)
		},
		Transport:  t,
		BufferPool: benchkit.NewBufferPool(),
	})
}

// issuer runs the provider with 1 h access tokens (no refresh during a run) and writes one token
// of the same shape for the bare proxy.
func issuer(ctx context.Context, addr, tokenFile string) error {
	op, err := devop.Start(ctx, devop.Config{Addr: addr, AccessTokenTTL: time.Hour})
	if err != nil {
		return err
	}
	defer op.Close()
	tok, err := op.MintAccessToken(map[string]any{
		"sub": "alice", "aud": append([]string{op.ClientID()}, op.Audience()...), "roles": []string{"engineer"},
	}, time.Hour)
	if err != nil {
		return err
	}
	if err := os.WriteFile(tokenFile, []byte(tok), 0o600); err != nil {
		return err
	}
	fmt.Println(op.Issuer(), op.ClientID())
	<-ctx.Done()
	return nil
}
