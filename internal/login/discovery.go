package login

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/pingedge/pingedge/internal/config"
	"github.com/pingedge/pingedge/internal/httpclient"
	"github.com/pingedge/pingedge/internal/verify/keyset"
)

// fetchTimeout bounds one discovery request when the caller's client sets none.
const fetchTimeout = 30 * time.Second

// Metadata is the issuer's discovery document as keyset.Discover reads it for every consumer
// (login, doctor, the edge): one client, one URL rule (jose.CheckURL).
type Metadata struct {
	keyset.Provider
}

// Discover fetches issuer/.well-known/openid-configuration through the one discovery client
// (keyset.Discover), over hc with httpclient's policy (no secret after a redirect, https-only
// redirects, localhost names at loopback), and checks what login needs beyond the edge: a
// token_endpoint.
func Discover(ctx context.Context, hc *http.Client, issuer string) (*Metadata, error) {
	if err := config.ValidateIssuer(issuer); err != nil {
		return nil, err // config.ErrInvalid: a usage error, not the issuer's fault
	}
	p, err := keyset.Discover(ctx, discoveryFetcher{hc: httpclient.Enforce(hc)}, issuer)
	if err != nil {
		return nil, err
	}
	if p.TokenEndpoint == "" {
		return nil, fmt.Errorf("%w: the issuer publishes no token_endpoint: it is not an OpenID provider pingedge can log in to", ErrDiscovery)
	}
	return &Metadata{Provider: *p}, nil
}

// discoveryFetcher is keyset's HTTP fetcher with login's transport errors: a network failure is
// a TransientError (retry), a refused redirect says so, the caller's cancellation is itself.
type discoveryFetcher struct{ hc *http.Client }

func (f discoveryFetcher) Fetch(ctx context.Context, u string) (*keyset.FetchResult, error) {
	res, err := (&keyset.HTTPFetcher{Client: f.hc, Timeout: fetchTimeout}).Fetch(ctx, u)
	if err != nil {
		return nil, requestError(ctx, "discovery", fmt.Errorf("%s: %w", u, stripURLError(err)))
	}
	return res, nil
}

// Supports reports which flows the issuer can run for pingedge, with the reason when one cannot.
func (md *Metadata) Supports(flow string) error {
	switch flow {
	case FlowPKCE:
		if md.AuthorizationEndpoint == "" {
			return &UnsupportedFlowError{Flow: FlowPKCE, Why: "the issuer publishes no authorization_endpoint"}
		}
		if len(md.CodeChallengeMethods) > 0 && !slices.Contains(md.CodeChallengeMethods, "S256") {
			return &UnsupportedFlowError{Flow: FlowPKCE, Why: "code_challenge_methods_supported lacks S256"}
		}
	case FlowDevice:
		if md.DeviceAuthorizationEndpoint == "" {
			return &UnsupportedFlowError{Flow: FlowDevice, Why: "the issuer publishes no device_authorization_endpoint (is the DEVICE_CODE grant enabled on the client?)"}
		}
	}
	return nil
}
