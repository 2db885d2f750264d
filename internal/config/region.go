package config

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/pingedge/pingedge/internal/verify/jose"
)

// pingOneDomains maps a PingOne region shorthand to its auth domain
// (https://docs.pingidentity.com/pingone/ — "PingOne regions").
var pingOneDomains = map[string]string{
	"na": "auth.pingone.com",
	"eu": "auth.pingone.eu",
	"ca": "auth.pingone.ca",
	"au": "auth.pingone.com.au",
	"sg": "auth.pingone.sg",
	"ap": "auth.pingone.asia",
}

// Regions lists the accepted region shorthands.
func Regions() []string { return []string{"na", "eu", "ca", "au", "sg", "ap"} }

// PingOneIssuer builds the issuer URL of a PingOne environment: https://auth.pingone.<tld>/<env>/as.
func PingOneIssuer(envID, region string) (string, error) {
	if region == "" {
		region = "na"
	}
	domain, ok := pingOneDomains[strings.ToLower(region)]
	if !ok {
		return "", fmt.Errorf("%w: unknown PingOne region %q: use one of %s", ErrInvalid, region, strings.Join(Regions(), ", "))
	}
	envID = strings.TrimSpace(envID)
	if envID == "" || strings.ContainsAny(envID, "/?#%") || url.PathEscape(envID) != envID {
		return "", fmt.Errorf("%w: PingOne environment ID %q is not an ID: copy it from the PingOne admin console (Environment → Properties)", ErrInvalid, envID)
	}
	return "https://" + domain + "/" + envID + "/as", nil
}

// ValidateIssuer checks an issuer URL with the one URL rule (jose.CheckIssuerURL: absolute
// https, http only on a loopback host, no query or fragment) that login, doctor, the policy and
// the edge share; see docs/architecture.md.
func ValidateIssuer(raw string) error {
	if err := jose.CheckIssuerURL(raw); err != nil {
		return fmt.Errorf("%w: issuer %w", ErrInvalid, err)
	}
	return nil
}

// IsLoopbackHost reports whether host names the local machine (jose.IsLoopbackHost, the one
// definition: localhost, *.localhost per RFC 6761 §6.3, 127.0.0.0/8, ::1).
func IsLoopbackHost(host string) bool { return jose.IsLoopbackHost(host) }
