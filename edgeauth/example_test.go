package edgeauth_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/pingedge/pingedge/edgeauth"
)

// Wrap an API with the policy `pingedge edge serve` uses. Requests without a valid token get
// 401 and the RFC 6750 challenge before the API sees them; /public is open to anyone.
func Example() {
	policy := []byte(`issuer: https://auth.pingone.eu/00000000-0000-0000-0000-000000000000/as
audience: https://api.example.com
roles_claim: roles
rules:
  - path: /public/**
    allow: anyone
  - path: /api/**
    roles: [engineer]
default: deny
forward:
  X-Auth-User: sub
`)
	m, err := edgeauth.New(edgeauth.Config{Policy: policy})
	if err != nil {
		panic(err)
	}
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, ok := edgeauth.ClaimsFromContext(r.Context()); ok {
			fmt.Fprintln(w, "hello", c.Subject)
			return
		}
		fmt.Fprintln(w, "hello, anyone")
	})
	h := m.Handler(api)
	for _, path := range []string{"/public/info", "/api/items"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		fmt.Printf("%s %d %q\n", path, rec.Code, rec.Header().Get("WWW-Authenticate"))
	}
	// Output:
	// /public/info 200 ""
	// /api/items 401 "Bearer"
}

// Read the verified claims in a handler behind the middleware.
func ExampleClaimsFromContext() {
	handler := func(w http.ResponseWriter, r *http.Request) {
		c, ok := edgeauth.ClaimsFromContext(r.Context())
		if !ok {
			http.Error(w, "no identity", http.StatusInternalServerError)
			return
		}
		var email string
		if found, err := c.Claim("email", &email); err != nil || !found {
			email = "(none)"
		}
		fmt.Fprintln(w, c.Subject, c.Roles, email)
	}
	_ = handler
}
