// Command edgebench runs the fixed parts of bench/edge.sh: the origin every proxy forwards to,
// a bare httputil.ReverseProxy (the baseline), and the in-process OpenID provider that issues
// the benchmark's token. It is a benchmark helper, not part of pingedge.
//
//	edgebench origin ADDR
//	edgebench bare ADDR ORIGIN_URL
//	edgebench issuer ADDR TOKEN_FILE   (prints the issuer URL, writes a 1 h token)
//	edgebench check URL TOKEN_FILE     (200 with the token, refused without: the proxy enforces)
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"time"

	"github.com/pingedge/pingedge/bench/internal/benchkit"
	"github.com/pingedge/pingedge/internal/devop"
)

func main() { benchkit.Main("edgebench", run) }

func run(ctx context.Context, args []string) error {
	switch {
	case len(args) == 2 && args[0] == "origin":
		return benchkit.Serve(ctx, args[1], http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"items":[1,2,3]}`)
		}))
	case len(args) == 3 && args[0] == "bare":
		u, err := url.Parse(args[2])
		if err != nil {
			return err
		}
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConns, t.MaxIdleConnsPerHost = 1024, 512 // as pingedge's origin transport
		// The same transport settings, flushing and copy-buffer pool as pingedge's gateway, so
		// the difference measured is verification, policy and audit, nothing else.
		return benchkit.Serve(ctx, args[1], &httputil.ReverseProxy{
			Rewrite:   func(pr *httputil.ProxyRequest) { pr.SetURL(u); pr.SetXForwarded() },
			Transport: t, FlushInterval: -1, BufferPool: benchkit.NewBufferPool(),
		})
	case len(args) == 3 && args[0] == "issuer":
		return issuer(ctx, args[1], args[2])
	case len(args) == 3 && args[0] == "check":
		return check(ctx, args[1], args[2])
	}
	return errors.New("usage: edgebench origin ADDR | bare ADDR ORIGIN_URL | issuer ADDR TOKEN_FILE | check URL TOKEN_FILE")
}

// issuer starts devop and writes one access token for alice, audience the client ID (what
// oauth2-proxy's own verifier wants) and the API (what pingedge's policy wants).
func issuer(ctx context.Context, addr, tokenFile string) error {
	op, err := devop.Start(ctx, devop.Config{Addr: addr, AccessTokenTTL: time.Hour})
	if err != nil {
		return err
	}
	defer op.Close()
	tok, err := op.MintAccessToken(map[string]any{
		"sub": "alice", "email": "alice@example.com", "email_verified": true,
		"aud": append([]string{op.ClientID()}, op.Audience()...), "roles": []string{"engineer"},
	}, time.Hour)
	if err != nil {
		return err
	}
	if err := os.WriteFile(tokenFile, []byte(tok), 0o600); err != nil {
		return err
	}
	fmt.Println(op.Issuer())
	<-ctx.Done()
	return nil
}

// check makes sure a proxy under test really verifies: the token gets the origin's 200, no
// token does not. enforce=false (the bare proxy) only checks the 200.
func check(ctx context.Context, target, tokenFile string) error {
	tok, err := os.ReadFile(tokenFile)
	if err != nil {
		return err
	}
	get := func(auth string) (int, error) {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, "GET", target, nil)
		if err != nil {
			return 0, err
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, nil
	}
	if code, err := get("Bearer " + string(tok)); err != nil || code != 200 {
		return fmt.Errorf("%s with the token: status %d, %v", target, code, err)
	}
	code, err := get("")
	if err != nil {
		return err
	}
	fmt.Printf("%s: 200 with the token, %d without\n", target, code)
	return nil
}
