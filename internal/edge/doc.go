// Package edge is the server side around the verification core (internal/verify): the gateway
// that sits in front of an API (`pingedge edge serve --origin URL`) and the forward-auth
// endpoint that nginx auth_request, Traefik ForwardAuth, Caddy forward_auth and Envoy ext_authz
// call (`--forward-auth`). Both ask the same verify.Engine, so a request gets the same answer
// here, in the CLI and in the Cloudflare Worker.
//
// Around the engine it adds what a long-running server needs: timeouts and header limits,
// graceful shutdown, an X-Request-Id kept or stamped, one audit JSON line per request on the
// audit writer (stdout) and human logs on the logger (stderr), Prometheus metrics, health and
// readiness endpoints, and a policy that reloads on SIGHUP and on file change while a bad edit
// keeps the last good policy.
package edge
