package lambdaauth

import (
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// restContext is the part of a REST REQUEST event's requestContext that aws-lambda-go's
// struct leaves out: the domain the client called.
type restContext struct {
	RequestContext struct {
		DomainName string `json:"domainName"`
	} `json:"requestContext"`
}

// httpAPIURL is the request URL for a DPoP proof's htu (RFC 9449 §4.3 point 9) as a payload
// 2.0 event describes it: https (API Gateway only answers https), the domain the client called
// (requestContext.domainName, else the Host header) and rawPath, the path as sent, without the
// query (htu has none). On a named stage of the default execute-api domain rawPath carries the
// stage prefix, as the client's URL does. "" when the event does not say: proofs are then
// refused, never checked against a guessed URL.
func httpAPIURL(ev *events.APIGatewayV2CustomAuthorizerV2Request) string {
	host := ev.RequestContext.DomainName
	if host == "" {
		host = ev.Headers["host"] // payload 2.0 header names are lower-case
	}
	return eventURL(host, ev.RawPath)
}

// restURL is the same for a REST REQUEST event. The path is requestContext.path, the path as
// the client called it (with the stage on the default execute-api domain, with the base path
// on a custom domain), not the top-level path (without the stage) nor resource (the route
// template, "/{proxy+}"): a client's proof names the URL it called.
func restURL(ev *events.APIGatewayCustomAuthorizerRequestTypeRequest, domain string, h http.Header) string {
	host := domain
	if host == "" {
		host = h.Get("Host") // h is canonicalised: REST header names come in any case
	}
	return eventURL(host, ev.RequestContext.Path)
}

// eventURL joins what the event says; X-Forwarded-Host is never consulted, as any client can
// send it through API Gateway.
func eventURL(host, path string) string {
	if host == "" || !strings.HasPrefix(path, "/") || strings.ContainsAny(host, "/?#@ ") {
		return ""
	}
	return "https://" + host + path
}
