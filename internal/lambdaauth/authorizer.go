// Package lambdaauth serves the verification core as an AWS API Gateway Lambda authorizer:
// the same engine and policy as `pingedge edge serve`, answering HTTP API (payload format 2.0,
// simple responses) and REST API (REQUEST authorizer, IAM policy) events. The pingedge binary
// itself runs it when it starts as a Lambda custom runtime's bootstrap (see Run).
package lambdaauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pingedge/pingedge/internal/verify"
)

// errUnauthorized is what a REST API authorizer returns for a request without a valid token:
// API Gateway turns exactly this error message into a 401 to the client.
var errUnauthorized = errors.New("Unauthorized")

// Authorizer decides API Gateway authorizer events with one engine. Safe for concurrent use,
// though Lambda sends one event at a time per execution environment.
type Authorizer struct {
	eng   *verify.Engine
	mu    sync.Mutex // one audit line at a time, written whole
	audit io.Writer
	buf   []byte
}

// New returns an authorizer writing one audit line per decision to audit (stdout in Lambda, so
// CloudWatch Logs gets it), the same JSON as `edge serve` writes.
func New(eng *verify.Engine, audit io.Writer) *Authorizer {
	return &Authorizer{eng: eng, audit: audit}
}

// envelope is the part of an event that tells the two formats apart.
type envelope struct {
	Version   string `json:"version"`
	MethodArn string `json:"methodArn"`
}

// Invoke decides one raw event: payload format 2.0 (version "2.0") gets a simple response,
// a REST REQUEST event (it has a methodArn) an IAM policy. Anything else is an error: Lambda
// reports it and API Gateway denies.
func (a *Authorizer) Invoke(ctx context.Context, payload []byte) (any, error) {
	var env envelope
	if err := json.Unmarshal(payload, &env); err != nil {
		return nil, fmt.Errorf("lambdaauth: event is not JSON: %w", err)
	}
	switch {
	case env.Version == "2.0":
		var ev events.APIGatewayV2CustomAuthorizerV2Request
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, fmt.Errorf("lambdaauth: payload 2.0 event: %w", err)
		}
		return a.HTTPAPI(ctx, ev), nil
	case env.MethodArn != "":
		var ev events.APIGatewayCustomAuthorizerRequestTypeRequest
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, fmt.Errorf("lambdaauth: REST REQUEST event: %w", err)
		}
		var rc restContext
		_ = json.Unmarshal(payload, &rc) // the same payload decoded above: cannot fail here
		return a.REST(ctx, ev, rc.RequestContext.DomainName)
	}
	return nil, errors.New(`lambdaauth: unknown event: want an HTTP API authorizer event with payload format 2.0 ("version": "2.0") or a REST API REQUEST authorizer event (with "methodArn"); TOKEN authorizers are not supported because the policy needs the method and path`)
}

// HTTPAPI answers an HTTP API authorizer (payload format 2.0, simple responses). On allow the
// context holds sub, roles and every forward claim, keyed by claim name, for the integration's
// parameter mapping ($context.authorizer.<claim>). API Gateway answers a false isAuthorized
// with 403; it answers 401 itself when the identity source (the Authorization header) is absent.
func (a *Authorizer) HTTPAPI(ctx context.Context, ev events.APIGatewayV2CustomAuthorizerV2Request) events.APIGatewayV2CustomAuthorizerSimpleResponse {
	path := ev.RawPath
	if ev.RawQueryString != "" {
		path += "?" + ev.RawQueryString
	}
	d := a.decide(ctx, verify.Request{Method: ev.RequestContext.HTTP.Method, Path: path,
		Header: single(ev.Headers), URL: httpAPIURL(&ev), RequestID: ev.RequestContext.RequestID})
	out := events.APIGatewayV2CustomAuthorizerSimpleResponse{IsAuthorized: d.Allow}
	if d.Allow {
		out.Context = a.identity(d)
	}
	return out
}

// REST answers a REST API REQUEST authorizer with an IAM policy for exactly the invoked
// method ARN, never a wildcard: API Gateway caches the policy under the identity sources, and a
// wildcard Allow cached for one route would be reused for every other route of the API (an
// engineer allowed on /api would reach /admin until the cache expires). A missing or invalid
// token is the error "Unauthorized" (API Gateway's 401); every other denial a Deny policy (403).
// domain is the event's requestContext.domainName (for a DPoP proof's htu; "" falls back to
// the Host header).
func (a *Authorizer) REST(ctx context.Context, ev events.APIGatewayCustomAuthorizerRequestTypeRequest, domain string) (events.APIGatewayCustomAuthorizerResponse, error) {
	h := http.Header{}
	for k, vs := range ev.MultiValueHeaders {
		h[http.CanonicalHeaderKey(k)] = vs
	}
	for k, v := range ev.Headers {
		if _, ok := h[http.CanonicalHeaderKey(k)]; !ok {
			h.Set(k, v)
		}
	}
	d := a.decide(ctx, verify.Request{Method: ev.HTTPMethod, Path: ev.Path, Header: h,
		URL: restURL(&ev, domain, h), RequestID: ev.RequestContext.RequestID})
	if d.Status == http.StatusUnauthorized {
		return events.APIGatewayCustomAuthorizerResponse{}, errUnauthorized
	}
	effect, principal := "Deny", "anonymous"
	if d.Claims != nil && d.Claims.Subject != "" {
		principal = d.Claims.Subject
	}
	out := events.APIGatewayCustomAuthorizerResponse{PrincipalID: principal}
	if d.Allow {
		effect, out.Context = "Allow", a.identity(d)
	}
	out.PolicyDocument = events.APIGatewayCustomAuthorizerPolicy{Version: "2012-10-17",
		Statement: []events.IAMPolicyStatement{{Action: []string{"execute-api:Invoke"}, Effect: effect, Resource: []string{ev.MethodArn}}}}
	return out, nil
}

// decide runs the engine and writes the audit line before the answer goes back: Lambda may
// freeze the environment right after the response, so nothing is left in a buffer.
func (a *Authorizer) decide(ctx context.Context, r verify.Request) verify.Decision {
	d := a.eng.Decide(ctx, r)
	if a.audit != nil {
		a.mu.Lock()
		a.buf = append(d.Audit.AppendJSON(a.buf[:0]), '\n')
		_, _ = a.audit.Write(a.buf)
		a.mu.Unlock()
	}
	return d
}

// identity is the allow context: sub, roles and the policy's forward claims, rendered as the
// gateway renders them into headers (lists joined with ","). Values are strings, as API Gateway
// requires for context values it maps into headers.
func (a *Authorizer) identity(d verify.Decision) map[string]any {
	ctx := map[string]any{}
	if d.Claims == nil {
		return ctx // an open (allow: anyone) route: no identity
	}
	ctx["sub"] = d.Claims.Subject
	if d.Claims.Roles != nil {
		ctx["roles"] = joinRoles(d.Claims.Roles)
	}
	for _, f := range a.eng.Policy().Forward {
		if v, ok := d.SetHeaders[f.Header]; ok {
			ctx[f.Claim] = v
		}
	}
	return ctx
}

func joinRoles(roles []string) string {
	var b []byte
	for i, r := range roles {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, r...)
	}
	return string(b)
}

// single turns payload 2.0's headers (lower-case names, repeated values already joined with
// ",") into an http.Header.
func single(m map[string]string) http.Header {
	h := make(http.Header, len(m))
	for k, v := range m {
		h.Set(k, v)
	}
	return h
}
