package lambdaauth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pingedge/pingedge/internal/devop"
	"github.com/pingedge/pingedge/internal/dpopkey"
	"github.com/pingedge/pingedge/internal/edgecases"
	"github.com/pingedge/pingedge/internal/lambdaauth"
)

// dpopEvent is one authorizer event for GET /api/items on the default execute-api domain, in
// either format: an HTTP API on its $default stage (no prefix) or a REST API on stage prod,
// which the client calls as /prod/api/items, carrying the token with the DPoP scheme and, when proof is
// not "", the proof in a dpop header (lower-case in payload 2.0, any case in REST).
func dpopEvent(format, domain, token, proof string) map[string]any {
	const path, stagePath = "/api/items", "/prod/api/items"
	h := map[string]string{"authorization": "DPoP " + token, "host": domain}
	if format == "rest-request" {
		h = map[string]string{"Authorization": "DPoP " + token, "Host": domain}
	}
	if proof != "" {
		h[map[bool]string{true: "DPoP", false: "dpop"}[format == "rest-request"]] = proof
	}
	if format == "http-api-2.0" {
		return map[string]any{"version": "2.0", "type": "REQUEST", "routeKey": "ANY /{proxy+}",
			"routeArn": "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/$default/GET" + path,
			"rawPath":  path, "rawQueryString": "a=b", "headers": h,
			"requestContext": map[string]any{"domainName": domain, "stage": "$default", "requestId": "r",
				"http": map[string]any{"method": "GET", "path": path}}}
	}
	return map[string]any{"type": "REQUEST", "resource": "/{proxy+}", "path": path, "httpMethod": "GET",
		"methodArn": "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/prod/GET" + path, "headers": h,
		"requestContext": map[string]any{"domainName": domain, "path": stagePath, "stage": "prod",
			"resourcePath": "/{proxy+}", "httpMethod": "GET", "requestId": "r"}}
}

// boundToken is an engineer's access token from the in-process provider bound (cnf.jkt, RFC
// 9449 §6.1) to a fresh key, and that key's proof signer.
func boundToken(t *testing.T, op *devop.Server) (*dpopkey.Signer, string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	s, _ := dpopkey.NewSigner(key)
	tok, err := op.MintAccessToken(map[string]any{"sub": "alice", "aud": op.Audience(), "roles": []string{"engineer"},
		"cnf": map[string]any{"jkt": s.JKT()}}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return s, tok
}

func dpopPolicy(op *devop.Server) string {
	return fmt.Sprintf(edgecases.Policy, op.Issuer()) + "\ndpop: required\n"
}

// allowed says whether the authorizer's answer lets the request through.
func allowed(t *testing.T, a *lambdaauth.Authorizer, ev map[string]any) bool {
	t.Helper()
	b, _ := json.Marshal(ev)
	out, err := a.Invoke(context.Background(), b)
	switch r := out.(type) {
	case events.APIGatewayV2CustomAuthorizerSimpleResponse:
		return r.IsAuthorized
	case events.APIGatewayCustomAuthorizerResponse:
		return err == nil && r.PolicyDocument.Statement[0].Effect == "Allow"
	}
	return false // "Unauthorized" (REST's 401) or an event error
}

// TestAuthorizerDPoP: with dpop: required, a DPoP-bound token from the in-process provider with
// a valid proof for the URL the client called (https://<domainName><rawPath> or, for REST,
// <requestContext.path>, the stage included; RFC 9449 §4.3) is allowed as an HTTP API and as a REST API authorizer; the same
// token without a proof, as Bearer, with a replayed proof, or with a proof for another path,
// host, method or stage prefix, or for a client-sent X-Forwarded-Host is
// denied. The proof is looked up case-insensitively ("dpop" in 2.0, "DPoP" in REST).
func TestAuthorizerDPoP(t *testing.T) {
	op := edgecases.StartOP(t)
	s, tok := boundToken(t, op)
	pf := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(pf, []byte(dpopPolicy(op)), 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := lambdaauth.Setup(context.Background(), lambdaauth.Options{Stdout: io.Discard, Stderr: io.Discard,
		Getenv: func(k string) string { return map[string]string{"PINGEDGE_POLICY": pf}[k] }})
	if err != nil {
		t.Fatal(err)
	}
	const domain = "abcdef1234.execute-api.eu-west-1.amazonaws.com"
	proof := func(method, url string) string {
		p, err := s.Proof(method, url, tok, "", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, format := range []string{"http-api-2.0", "rest-request"} {
		t.Run(format, func(t *testing.T) {
			stage := map[string]string{"http-api-2.0": "", "rest-request": "/prod"}[format]
			u := "https://" + domain + stage + "/api/items"
			good := proof("GET", u)
			if !allowed(t, a, dpopEvent(format, domain, tok, good)) {
				t.Fatal("a DPoP-bound token with a valid proof for the called URL was denied")
			}
			noDomain := dpopEvent(format, domain, tok, proof("GET", u))
			delete(noDomain["requestContext"].(map[string]any), "domainName")
			if !allowed(t, a, noDomain) {
				t.Error("without requestContext.domainName the Host header should name the URL")
			}
			bearer := dpopEvent(format, domain, tok, "")
			for k, v := range bearer["headers"].(map[string]string) {
				if strings.EqualFold(k, "authorization") {
					bearer["headers"].(map[string]string)[k] = "Bearer" + strings.TrimPrefix(v, "DPoP")
				}
			}
			forwarded := dpopEvent(format, domain, tok, proof("GET", "https://evil.example"+stage+"/api/items"))
			forwarded["headers"].(map[string]string)["x-forwarded-host"] = "evil.example"
			delete(forwarded["requestContext"].(map[string]any), "domainName")
			delete(forwarded["headers"].(map[string]string), "host")
			delete(forwarded["headers"].(map[string]string), "Host")
			for name, ev := range map[string]map[string]any{
				"no proof":           dpopEvent(format, domain, tok, ""),
				"as Bearer":          bearer,
				"replayed proof":     dpopEvent(format, domain, tok, good),
				"another path":       dpopEvent(format, domain, tok, proof("GET", "https://"+domain+stage+"/api/other")),
				"other stage prefix": dpopEvent(format, domain, tok, proof("GET", "https://"+domain+"/stage2/api/items")),
				"another host":       dpopEvent(format, domain, tok, proof("GET", "https://evil.example"+stage+"/api/items")),
				"another method":     dpopEvent(format, domain, tok, proof("POST", u)),
				"x-forwarded-host":   forwarded,
			} {
				if allowed(t, a, ev) {
					t.Errorf("%s: allowed", name)
				}
			}
		})
	}
}

// TestDPoPUnderEmulator: the built bootstrap under the Runtime Interface Emulator (the events as
// JSON over the Runtime API, as Lambda delivers them) allows a bound token with a valid proof
// in both formats and denies it without a proof, with the proof replayed, or with a proof for
// another path.
func TestDPoPUnderEmulator(t *testing.T) {
	op := edgecases.StartOP(t)
	s, tok := boundToken(t, op)
	e := startRIE(t, buildFunction(t, dpopPolicy(op)))
	const domain = "abcdef1234.execute-api.eu-west-1.amazonaws.com"
	for _, format := range []string{"http-api-2.0", "rest-request"} {
		stage := map[string]string{"http-api-2.0": "", "rest-request": "/prod"}[format]
		proof := func(path string) string {
			p, err := s.Proof("GET", "https://"+domain+stage+path, tok, "", time.Now())
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		good := proof("/api/items")
		for _, c := range []struct {
			name, proof string
			allow       bool
		}{{"valid proof", good, true}, {"no proof", "", false}, {"replayed proof", good, false},
			{"another path", proof("/api/other"), false}} {
			got, _ := e.invoke(t, dpopEvent(format, domain, tok, c.proof))
			doc, _ := got["policyDocument"].(map[string]any)
			st, _ := doc["Statement"].([]any)
			allow := got["isAuthorized"] == true || len(st) == 1 && st[0].(map[string]any)["Effect"] == "Allow"
			if allow != c.allow {
				t.Errorf("%s %s: allowed %v, want %v (%v)", format, c.name, allow, c.allow, got)
			}
		}
	}
}
