package keyset

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/pingedge/pingedge/internal/verify/jose"
)

// ErrDiscovery: the issuer's OpenID configuration could not be used (not found, not JSON, names
// another issuer, or a URL that breaks jose.CheckURL). A transport failure is not this error:
// it is the Fetcher's, passed on wrapped, so a caller can tell "unreachable" from "wrong".
var ErrDiscovery = errors.New("issuer discovery failed")

// Provider is the part of the issuer's discovery document pingedge uses (OpenID Connect
// Discovery 1.0 §3, RFC 8414 §2, RFC 8628 §4, RFC 7009 via RFC 8414 §2, RFC 9207 §3). The one
// discovery client of the tree: login, doctor and the edge's key set all read it through Discover.
type Provider struct {
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

// WellKnown is the discovery document's URL for issuer (OpenID Connect Discovery 1.0 §4.1).
func WellKnown(issuer string) string {
	return strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
}

// Discover fetches issuer's OpenID configuration through f and checks it: the document's issuer
// is identical to the one asked for (§4.3, so one issuer cannot stand in for another), it names a
// jwks_uri, and every URL in it passes jose.CheckURL. Duplicate JSON members are refused, as in
// every other document the core reads. The caller's Fetcher carries its HTTP policy (login's
// redirect and loopback rules; the Worker's fetch), so this file needs no net/http.
func Discover(ctx context.Context, f Fetcher, issuer string) (*Provider, error) {
	if err := jose.CheckIssuerURL(issuer); err != nil {
		return nil, fmt.Errorf("%w: issuer %w", ErrDiscovery, err)
	}
	u := WellKnown(issuer)
	res, err := f.Fetch(ctx, u)
	if err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	if res.Status != statusOK {
		return nil, fmt.Errorf("%w: %s answered HTTP %d", ErrDiscovery, u, res.Status)
	}
	p, err := parseProvider(res.Body)
	if err != nil {
		return nil, fmt.Errorf("%w: %s is not an OpenID configuration: %w", ErrDiscovery, u, err)
	}
	if p.Issuer != issuer {
		return nil, fmt.Errorf("%w: %s names issuer %s, not %s: use the exact issuer URL (trailing slash included)", ErrDiscovery, u, jose.QuoteURL(p.Issuer), jose.QuoteURL(issuer))
	}
	return p, p.checkURLs()
}

func parseProvider(body []byte) (*Provider, error) {
	if len(body) > jose.MaxJWKSBytes {
		return nil, fmt.Errorf("document is larger than %d bytes", jose.MaxJWKSBytes)
	}
	if _, err := jose.ParseObject(body); err != nil {
		return nil, err
	}
	var p Provider
	if err := json.Unmarshal(body, &p); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, fmt.Errorf("member %s has the wrong type", jose.QuoteShort(te.Field))
		}
		return nil, errors.New("invalid JSON")
	}
	return &p, nil
}

// checkURLs holds every endpoint to the one URL rule: codes, tokens and keys are never fetched in
// clear text off the machine.
func (p *Provider) checkURLs() error {
	for _, e := range []struct{ name, url string }{
		{"authorization_endpoint", p.AuthorizationEndpoint}, {"token_endpoint", p.TokenEndpoint},
		{"device_authorization_endpoint", p.DeviceAuthorizationEndpoint},
		{"revocation_endpoint", p.RevocationEndpoint}, {"jwks_uri", p.JWKSURI},
	} {
		if e.url == "" {
			continue
		}
		if err := jose.CheckURL(e.url); err != nil {
			return fmt.Errorf("%w: %s %w", ErrDiscovery, e.name, err)
		}
	}
	if p.JWKSURI == "" {
		return fmt.Errorf("%w: the issuer publishes no jwks_uri: its tokens cannot be checked", ErrDiscovery)
	}
	return nil
}
