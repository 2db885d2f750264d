package doctor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pingedge/pingedge/internal/login"
	"github.com/pingedge/pingedge/internal/verify/keyset"
	"github.com/pingedge/pingedge/internal/verify/policyfile"
)

// urlRuleCases is the shared table of issue 13: login, doctor, the policy and the edge's
// discovery accept and refuse exactly these URLs (https, or http only on a loopback host).
var urlRuleCases = []struct {
	url    string
	accept bool
}{
	{"https://idp.example.com", true},
	{"https://auth.pingone.com/11111111-2222-3333-4444-555555555555/as", true},
	{"http://127.0.0.1:9000", true},
	{"http://127.8.9.10/as", true},
	{"http://localhost:8080/realms/x", true},
	{"http://idp.localhost", true},
	{"http://LOCALHOST.:8080", true},
	{"http://[::1]:8080", true},
	{"http://example.com", false},
	{"http://127.evil.example", false},
	{"http://localhost.evil.example", false},
	{"http://10.0.0.1", false},
	{"http://0.0.0.0:8080", false},
	{"http://[::ffff:10.0.0.1]", false},
	{"ftp://idp.example.com", false},
	{"idp.example.com", false},
	{"/etc/jwks.json", false},
	{"https://", false},
}

// docTransport answers every discovery request with a document for the issuer asked for whose
// jwks_uri is jwks, and counts the requests: a URL the rule refuses must cause none.
type docTransport struct {
	jwks string
	hits atomic.Int32
}

func (d *docTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	d.hits.Add(1)
	iss := strings.TrimSuffix(r.URL.String(), "/.well-known/openid-configuration")
	jwks := d.jwks
	if jwks == "" {
		jwks = "https://keys.example.com/jwks"
	}
	body, _ := json.Marshal(map[string]string{"issuer": iss, "token_endpoint": "https://idp.example.com/token", "jwks_uri": jwks})
	return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(body)), Request: r}, nil
}

func TestURLRuleIsSharedByLoginDoctorPolicyAndEdge(t *testing.T) {
	ctx := t.Context()
	for _, c := range urlRuleCases {
		t.Run(c.url, func(t *testing.T) {
			got := map[string]bool{}

			// As the issuer.
			tr := &docTransport{}
			_, err := login.Discover(ctx, &http.Client{Transport: tr}, c.url)
			got["login issuer"] = err == nil
			tr = &docTransport{}
			out := checkIssuer(ctx, Env{Issuer: c.url, HTTP: &http.Client{Transport: tr}, Now: time.Now})
			got["doctor issuer"] = out[0].Status == Pass
			_, err = policyfile.Parse([]byte("issuer: " + c.url + "\naudience: api\n"))
			got["policy issuer"] = err == nil
			tr = &docTransport{}
			_, err = keyset.Discover(ctx, &keyset.HTTPFetcher{Client: &http.Client{Transport: tr}}, c.url)
			got["edge issuer"] = err == nil

			// As the jwks_uri an issuer publishes, or a policy names.
			const iss = "https://idp.example.com"
			_, err = login.Discover(ctx, &http.Client{Transport: &docTransport{jwks: c.url}}, iss)
			got["login jwks_uri"] = err == nil
			out = checkIssuer(ctx, Env{Issuer: iss, HTTP: &http.Client{Transport: &docTransport{jwks: c.url}}, Now: time.Now})
			got["doctor jwks_uri"] = out[0].Status == Pass
			_, err = policyfile.Parse([]byte("issuer: " + iss + "\naudience: api\njwks_uri: " + c.url + "\n"))
			got["policy jwks_uri"] = err == nil
			_, err = keyset.Discover(ctx, &keyset.HTTPFetcher{Client: &http.Client{Transport: &docTransport{jwks: c.url}}}, iss)
			got["edge jwks_uri"] = err == nil

			for who, ok := range got {
				if ok != c.accept {
					t.Errorf("%s: accepted = %v, want %v", who, ok, c.accept)
				}
			}
		})
	}
}

// TestURLRuleRefusesBeforeAnyRequest: a refused issuer is refused without a request leaving the
// machine, and the error says what to do.
func TestURLRuleRefusesBeforeAnyRequest(t *testing.T) {
	tr := &docTransport{}
	_, err := login.Discover(context.Background(), &http.Client{Transport: tr}, "http://example.com")
	if err == nil || tr.hits.Load() != 0 {
		t.Fatalf("err = %v, requests = %d", err, tr.hits.Load())
	}
	if !strings.Contains(err.Error(), "use https") || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("the error does not say what to do: %v", err)
	}
	_, err = keyset.Discover(context.Background(), &keyset.HTTPFetcher{Client: &http.Client{Transport: tr}}, "http://example.com")
	if !errors.Is(err, keyset.ErrDiscovery) || tr.hits.Load() != 0 {
		t.Fatalf("err = %v, requests = %d", err, tr.hits.Load())
	}
}
