package jose

import (
	"reflect"
	"testing"
)

// TestScopesIsTheVerifiersReading: Scopes (what inspect displays) equals the Claims.Scopes the
// policy's scopes rules are matched against, for every form issuers send.
func TestScopesIsTheVerifiersReading(t *testing.T) {
	for _, tc := range []struct{ payload, want string }{
		{`{"exp":1,"scope":"a b"}`, "[a b]"},
		{`{"exp":1,"scp":["a","b"]}`, "[a b]"},
		{`{"exp":1,"scp":"a"}`, "[a]"},
		{`{"exp":1,"scope":"a","scp":["b"]}`, "[a b]"},
		{`{"exp":1,"scp":["b"],"scope":"a c"}`, "[b a c]"},
	} {
		c, err := ParseClaims([]byte(tc.payload))
		if err != nil {
			t.Fatal(err)
		}
		got := Scopes([]byte(tc.payload))
		if !reflect.DeepEqual(got, c.Scopes) || sprint(got) != tc.want {
			t.Errorf("%s: Scopes %v, verifier %v, want %s", tc.payload, got, c.Scopes, tc.want)
		}
	}
}

func sprint(s []string) string {
	out := "["
	for i, x := range s {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out + "]"
}
