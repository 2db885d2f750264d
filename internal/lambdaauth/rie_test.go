package lambdaauth_test

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pingedge/pingedge/internal/edgecases"
)

// claimOf is the table policy's forward mapping: origin header -> authorizer context key.
var claimOf = map[string]string{"X-Auth-User": "sub", "X-Auth-Email": "email", "X-Auth-Roles": "roles"}

func splitQuery(target string) (path, query string) {
	path, query, _ = strings.Cut(target, "?")
	return path, query
}

func lowerHeaders(h map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range h {
		out[strings.ToLower(k)] = v // payload 2.0 sends header names lower-cased
	}
	return out
}

func httpAPIEvent(c edgecases.Case, tk edgecases.Tokens, id string) events.APIGatewayV2CustomAuthorizerV2Request {
	path, query := splitQuery(c.Path)
	ev := events.APIGatewayV2CustomAuthorizerV2Request{Version: "2.0", Type: "REQUEST",
		RouteArn: "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/$default/" + c.Method + path,
		RouteKey: "ANY /{proxy+}", RawPath: path, RawQueryString: query, Headers: lowerHeaders(c.Header(tk))}
	if a := ev.Headers["authorization"]; a != "" {
		ev.IdentitySource = []string{a}
	}
	ev.RequestContext.RequestID = id
	ev.RequestContext.HTTP.Method, ev.RequestContext.HTTP.Path = c.Method, path
	return ev
}

func restEvent(c edgecases.Case, tk edgecases.Tokens, id string) events.APIGatewayCustomAuthorizerRequestTypeRequest {
	path, query := splitQuery(c.Path)
	h := c.Header(tk)
	ev := events.APIGatewayCustomAuthorizerRequestTypeRequest{Type: "REQUEST",
		MethodArn: "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/prod/" + c.Method + path,
		Resource:  "/{proxy+}", Path: path, HTTPMethod: c.Method, Headers: h, MultiValueHeaders: map[string][]string{}}
	for k, v := range h {
		ev.MultiValueHeaders[k] = []string{v}
	}
	if q, err := url.ParseQuery(query); err == nil && query != "" {
		ev.QueryStringParameters = map[string]string{}
		for k := range q {
			ev.QueryStringParameters[k] = q.Get(k)
		}
	}
	ev.RequestContext.RequestID = id
	return ev
}

// TestRequestTableUnderEmulator runs the shared request table (the one the gateway and the
// Worker pass) through the built bootstrap under the AWS Lambda Runtime Interface Emulator, as
// an HTTP API (payload 2.0, simple response) and as a REST API (REQUEST authorizer, IAM
// policy). Every case must get the table's answer: the engine's status in the audit line,
// isAuthorized / Allow only for 200, 401 as REST's "Unauthorized", the identity in the
// context. The keys are fetched once for the whole run.
func TestRequestTableUnderEmulator(t *testing.T) {
	op := edgecases.StartOP(t)
	tk := edgecases.Mint(t, op)
	e := startRIE(t, buildFunction(t, fmt.Sprintf(edgecases.Policy, op.Issuer())))
	var warm []time.Duration
	n := 0
	for _, format := range []string{"http-api-2.0", "rest-request"} {
		t.Run(format, func(t *testing.T) {
			for _, c := range edgecases.Cases() {
				t.Run(c.Name, func(t *testing.T) {
					n++
					id := fmt.Sprintf("req-%d", n)
					var got map[string]any
					var took time.Duration
					if format == "http-api-2.0" {
						got, took = e.invoke(t, httpAPIEvent(c, tk, id))
						checkSimple(t, c, got)
					} else {
						got, took = e.invoke(t, restEvent(c, tk, id))
						checkREST(t, c, got, restEvent(c, tk, id).MethodArn)
					}
					if n == 1 {
						t.Logf("cold start (process start, policy, key fetch, first decision): %v", took)
					} else {
						warm = append(warm, took)
					}
					rec := e.auditFor(t, id)
					if int(rec["status"].(float64)) != c.Status {
						t.Errorf("audit status %v, want %d (%v)", rec["status"], c.Status, rec)
					}
					if strings.Contains(fmt.Sprint(rec), "Bearer") {
						t.Errorf("audit line holds a credential: %v", rec)
					}
				})
			}
		})
	}
	sort.Slice(warm, func(i, j int) bool { return warm[i] < warm[j] })
	if len(warm) > 0 {
		t.Logf("warm invocations through the emulator: median %v, p90 %v (n=%d)", warm[len(warm)/2], warm[len(warm)*9/10], len(warm))
	}
	if f := op.Stats().JWKSFetches; f != 1 {
		t.Errorf("JWKS fetched %d times over %d invocations, want once per execution environment", f, n)
	}
}

func checkSimple(t *testing.T, c edgecases.Case, got map[string]any) {
	t.Helper()
	allowed, ok := got["isAuthorized"].(bool)
	if !ok {
		t.Fatalf("not a simple response: %v", got)
	}
	if allowed != (c.Status == 200) {
		t.Errorf("isAuthorized %v, want %v", allowed, c.Status == 200)
	}
	checkContext(t, c, got)
}

func checkREST(t *testing.T, c edgecases.Case, got map[string]any, methodArn string) {
	t.Helper()
	if c.Status == 401 {
		if got["errorMessage"] != "Unauthorized" {
			t.Errorf("want the error Unauthorized (API Gateway's 401), got %v", got)
		}
		return
	}
	doc, _ := got["policyDocument"].(map[string]any)
	st, _ := doc["Statement"].([]any)
	if len(st) != 1 {
		t.Fatalf("want one policy statement, got %v", got)
	}
	s := st[0].(map[string]any)
	want := map[bool]string{true: "Allow", false: "Deny"}[c.Status == 200]
	if s["Effect"] != want || fmt.Sprint(s["Resource"]) != "["+methodArn+"]" {
		t.Errorf("statement %v, want %s on exactly %s", s, want, methodArn)
	}
	checkContext(t, c, got)
}

// checkContext: on allow, the identity the origin would get as headers is in the context.
func checkContext(t *testing.T, c edgecases.Case, got map[string]any) {
	t.Helper()
	ctx, _ := got["context"].(map[string]any)
	if c.Status != 200 {
		if len(ctx) > 0 {
			t.Errorf("denied, yet a context: %v", ctx)
		}
		return
	}
	for h, want := range c.OriginHeader {
		key, ok := claimOf[h]
		if !ok {
			continue
		}
		if v, _ := ctx[key].(string); v != want {
			t.Errorf("context %s = %q, want %q (origin header %s)", key, v, want, h)
		}
	}
}

// TestColdStartIssuerDown: a cold start that cannot reach the issuer fails closed (every token
// denied, status 503 in the audit line) and says why in the log.
func TestColdStartIssuerDown(t *testing.T) {
	op := edgecases.StartOP(t)
	tk := edgecases.Mint(t, op)
	op.SetDown(true)
	e := startRIE(t, buildFunction(t, fmt.Sprintf(edgecases.Policy, op.Issuer())))
	c := edgecases.Cases()[0] // engineer reads the api: allowed when the keys are there
	got, _ := e.invoke(t, httpAPIEvent(c, tk, "down-1"))
	if got["isAuthorized"] != false {
		t.Fatalf("issuer down at cold start: want a denial, got %v", got)
	}
	if rec := e.auditFor(t, "down-1"); rec["status"] != float64(503) {
		t.Errorf("audit %v, want status 503 (keys unavailable)", rec)
	}
	if !strings.Contains(e.out.String(), "cold start: cannot fetch the issuer's signing keys") {
		t.Errorf("no clear log line for the cold-start outage:\n%s", e.out.String())
	}
}
