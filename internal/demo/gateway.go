package demo

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"

	"github.com/pingedge/pingedge/internal/edge"
)

// startGateway writes the demo policy to policyPath and runs `pingedge edge serve --origin` (the
// same internal/edge server) on a fresh loopback port in front of the demo API.
func startGateway(ctx context.Context, policy, apiURL, policyPath string, logger *slog.Logger, audit io.Writer) (string, func(), error) {
	if err := os.WriteFile(policyPath, []byte(policy), 0o600); err != nil {
		return "", nil, fmt.Errorf("write the demo policy: %w", err)
	}
	origin, err := url.Parse(apiURL)
	if err != nil {
		return "", nil, err
	}
	srv, err := edge.New(edge.Options{PolicyFile: policyPath, Origin: origin, Logger: logger, Audit: audit, ReloadInterval: -1})
	if err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	gctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(gctx, ln, nil); err != nil {
			logger.Error("demo gateway stopped", "err", err)
		}
	}()
	stop := func() { cancel(); <-done }
	return "http://" + ln.Addr().String(), stop, nil
}
