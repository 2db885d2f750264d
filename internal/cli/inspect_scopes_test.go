package cli

import (
	"encoding/base64"
	"reflect"
	"testing"

	"github.com/pingedge/pingedge/internal/verify/jose"
)

// TestInspectScopesAreTheEngines: inspect shows the scopes the engine decides on: scope and scp
// together, scp as a string or a list (it used to show scope only, or let scp replace it).
func TestInspectScopesAreTheEngines(t *testing.T) {
	enc := base64.RawURLEncoding.EncodeToString
	for payload, want := range map[string][]string{
		`{"exp":1,"scope":"a b","scp":"c"}`: {"a", "b", "c"},
		`{"exp":1,"scope":"a","scp":["b"]}`: {"a", "b"},
		`{"exp":1,"scp":"only"}`:            {"only"},
		`{"exp":1,"scope":"x y"}`:           {"x", "y"},
	} {
		tok, err := jose.ParseUnverified(enc([]byte(`{"alg":"RS256"}`))+"."+enc([]byte(payload))+".c2ln", 0)
		if err != nil {
			t.Fatal(err)
		}
		if got := decodeView(tok, "").scopes; !reflect.DeepEqual(got, want) {
			t.Errorf("%s: inspect shows %v, the engine reads %v", payload, got, want)
		}
	}
}
