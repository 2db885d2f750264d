package config

import (
	"fmt"
	"net/netip"
	"net/url"
	"strings"
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

// ValidateIssuer checks an issuer URL: absolute https (http only for loopback, for tests and the
// demo), no query or fragment (OpenID Connect Discovery 1.0 §4).
func ValidateIssuer(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%w: issuer %q is not an absolute URL: pass --issuer https://… or --pingone-env ID --region R", ErrInvalid, raw)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%w: issuer %q must not have a query or fragment", ErrInvalid, raw)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if IsLoopbackHost(u.Hostname()) {
			return nil
		}
	}
	return fmt.Errorf("%w: issuer %q must use https (plain http is accepted only on loopback)", ErrInvalid, raw)
}

// IsLoopbackHost reports whether host names the local machine: "localhost" (and names under
// .localhost, RFC 6761 §6.3) or a loopback IP literal (127.0.0.0/8, ::1). Names that merely start
// with "127." such as 127.evil.example are not loopback.
func IsLoopbackHost(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Zone() == "" && ip.Unmap().IsLoopback()
}
