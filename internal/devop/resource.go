package devop

import (
	"context"
	"net/http"
	"net/url"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// RFC 8707 resource indicators. The op does not parse `resource` on the
// authorization and device authorization requests, so a middleware carries
// it to the storage through the request context.

type resourceKey struct{}

// withResources stores the request's resource parameters in its context.
func withResources(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case authorizePath, deviceAuthPath:
			_ = r.ParseForm()
			res := r.Form["resource"]
			if err := validResources(res); err != nil && r.URL.Path == deviceAuthPath {
				// The op turns storage errors here into a 500; answer first.
				writeOAuthError(w, http.StatusBadRequest, string(err.ErrorType), err.Description)
				return
			}
			if len(res) > 0 {
				r = r.WithContext(context.WithValue(r.Context(), resourceKey{}, slices.Clone(res)))
			}
		}
		next.ServeHTTP(w, r)
	})
}

// audienceFor is the access token audience: the client ID, then the
// requested resources (RFC 8707 §2), or the configured Audience when none
// was requested. A resource must be an absolute URI without a fragment
// (§2); anything else is invalid_target.
func (s *storage) audienceFor(ctx context.Context, clientID string) ([]string, error) {
	res, _ := ctx.Value(resourceKey{}).([]string)
	if len(res) == 0 {
		return append([]string{clientID}, s.cfg.Audience...), nil
	}
	if err := validResources(res); err != nil {
		return nil, err
	}
	return append([]string{clientID}, res...), nil
}

func validResources(res []string) *oidc.Error {
	for _, r := range res {
		u, err := url.Parse(r)
		if err != nil || !u.IsAbs() || u.Fragment != "" {
			return oidc.ErrInvalidTarget().WithDescription("resource must be an absolute URI without a fragment (RFC 8707 §2)")
		}
	}
	return nil
}
