package demo

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"time"
)

// autoBrowser is the demo's stand-in for the user's browser: it follows the authorization
// redirect through the local issuer's sign-in page into pingedge's loopback callback, exactly the
// requests a browser would make, so the demo runs the real authorization code + PKCE flow
// without a window.
type autoBrowser struct {
	client *http.Client
	logger *slog.Logger
}

func newAutoBrowser(logger *slog.Logger) *autoBrowser {
	jar, _ := cookiejar.New(nil)
	return &autoBrowser{client: &http.Client{Jar: jar, Timeout: 30 * time.Second}, logger: logger}
}

// Open returns at once, as launching a browser does; the sign-in runs in the background and the
// login waits for the callback (or its own timeout) as it would for a person.
func (b *autoBrowser) Open(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(context.WithoutCancel(ctx), http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	go func() {
		if err := b.visit(req); err != nil {
			b.logger.Warn("demo browser", "err", err)
		}
	}()
	return nil
}

func (b *autoBrowser) visit(req *http.Request) error {
	resp, err := b.client.Do(req)
	if err != nil {
		return fmt.Errorf("demo browser: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("demo browser: sign-in ended with %s", resp.Status)
	}
	return nil
}
