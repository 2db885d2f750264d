package login

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/pingedge/pingedge/internal/config"
	"github.com/pingedge/pingedge/internal/httpclient"
)

// Metadata is the part of the issuer's discovery document pingedge uses
// (OpenID Connect Discovery 1.0 §3, RFC 8414 §2, RFC 8628 §4, RFC 9207 §3).
type Metadata struct {
	Issuer                      string   `json:"issuer"`
	AuthorizationEndpoint       string   `json:"authorization_endpoint"`
	TokenEndpoint               string   `json:"token_endpoint"`
	DeviceAuthorizationEndpoint string   `json:"device_authorization_endpoint"`
	RevocationEndpoint          string   `json:"revocation_endpoint"`
	JWKSURI                     string   `json:"jwks_uri"`
	CodeChallengeMethods        []string `json:"code_challenge_methods_supported"`
	GrantTypes                  []string `json:"grant_types_supported"`
	IDTokenSigningAlgs          []string `json:"id_token_signing_alg_values_supported"`
	// IssParameterSupported: the issuer always sends `iss` in authorization responses (RFC 9207 §3),
	// so a response without it must be rejected.
	IssParameterSupported bool `json:"authorization_response_iss_parameter_supported"`
}

// Discover fetches issuer/.well-known/openid-configuration and checks that it describes the
// issuer asked for (OIDC Discovery §4.3: the issuer value must be identical).
func Discover(ctx context.Context, hc *http.Client, issuer string) (*Metadata, error) {
	if err := config.ValidateIssuer(issuer); err != nil {
		return nil, err
	}
	u := strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("discovery for %s: %w", issuer, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := httpclient.Enforce(hc).Do(req)
	if err != nil {
		return nil, requestError(ctx, "discovery", fmt.Errorf("%s: %w", u, stripURLError(err)))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: %s answered HTTP %d", ErrDiscovery, u, resp.StatusCode)
	}
	var md Metadata
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxResponse)).Decode(&md); err != nil {
		return nil, fmt.Errorf("discovery: %s is not an OpenID configuration: %w", u, jsonErr(err))
	}
	if md.Issuer != issuer {
		return nil, fmt.Errorf("discovery: %s names issuer %q, not %q: use the exact issuer URL (trailing slash included)", u, clean(md.Issuer, 200), issuer)
	}
	return &md, md.checkEndpoints()
}

// checkEndpoints refuses endpoints that would carry codes or tokens in clear text off the machine.
func (md *Metadata) checkEndpoints() error {
	for name, e := range map[string]string{
		"authorization_endpoint": md.AuthorizationEndpoint, "token_endpoint": md.TokenEndpoint,
		"device_authorization_endpoint": md.DeviceAuthorizationEndpoint,
		"revocation_endpoint":           md.RevocationEndpoint, "jwks_uri": md.JWKSURI,
	} {
		if e == "" {
			continue
		}
		u, err := url.Parse(e)
		if err != nil || !(u.Scheme == "https" || u.Scheme == "http" && config.IsLoopbackHost(u.Hostname())) {
			return fmt.Errorf("discovery: %s %q is not an https URL", name, clean(e, 200))
		}
	}
	if md.TokenEndpoint == "" || md.JWKSURI == "" {
		return errors.New("discovery: the issuer publishes no token_endpoint or jwks_uri: it is not an OpenID provider pingedge can use")
	}
	return nil
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
