package demo

import (
	"encoding/json"
	"net/http"
	"strings"
)

// apiHandler is the demo API behind the gateway: it answers with the identity the gateway
// forwarded, and says whether a bearer token reached it (it must not: the gateway strips it).
func apiHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, map[string]any{"status": "ok"})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{
			"message": "hello from the demo API",
			"path":    r.URL.Path,
			"identity": map[string]any{
				"user":  r.Header.Get("X-Auth-User"),
				"email": r.Header.Get("X-Auth-Email"),
				"roles": splitRoles(r.Header.Get("X-Auth-Roles")),
			},
			"request_id":              r.Header.Get("X-Request-Id"),
			"authorization_forwarded": r.Header.Get("Authorization") != "",
		})
	})
	return mux
}

func splitRoles(v string) []string {
	if v == "" {
		return []string{}
	}
	parts := strings.Split(v, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
