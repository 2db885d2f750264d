package httpclient

import (
	"context"
	"errors"
	"net"
	"strings"

	"github.com/pingedge/pingedge/internal/config"
)

// IsLocalhostName reports whether host is "localhost" or a name under ".localhost". RFC 6761 §6.3
// reserves them for this machine: resolvers should answer loopback, but a misconfigured or hostile
// one need not, so pingedge never asks one.
func IsLocalhostName(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	return host == "localhost" || strings.HasSuffix(host, ".localhost")
}

// IsLoopbackHost reports whether host names this machine (config.IsLoopbackHost, the one
// definition pingedge uses for "plain http is fine here").
func IsLoopbackHost(host string) bool { return config.IsLoopbackHost(host) }

// loopbackDial dials localhost names at 127.0.0.1, then ::1, without DNS (RFC 6761 §6.3), and
// every other address with dial.
func loopbackDial(dial func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil || !IsLocalhostName(host) {
			return dial(ctx, network, addr)
		}
		var errs []error
		for _, ip := range loopbackIPs(network) {
			c, err := dial(ctx, network, net.JoinHostPort(ip, port))
			if err == nil {
				return c, nil
			}
			errs = append(errs, err)
		}
		return nil, errors.Join(errs...)
	}
}

func loopbackIPs(network string) []string {
	switch network {
	case "tcp4":
		return []string{"127.0.0.1"}
	case "tcp6":
		return []string{"::1"}
	}
	return []string{"127.0.0.1", "::1"}
}
