package jose

import (
	"encoding/json"
	"reflect"
	"testing"
)

// readJWKWithEncodingJSON is how readJWK read a key's members before it stopped using
// encoding/json (a cold Worker isolate paid for its first run): the reference the fuzz test
// below holds the scanner-based reading to.
func readJWKWithEncodingJSON(data []byte) (*rawJWK, bool) {
	members, err := ParseObject(data)
	if err != nil {
		return nil, false
	}
	r := &rawJWK{}
	strs := map[string]*string{"kty": &r.Kty, "kid": &r.Kid, "use": &r.Use, "alg": &r.Alg,
		"crv": &r.Crv, "n": &r.N, "e": &r.E, "x": &r.X, "y": &r.Y}
	for _, m := range members {
		if dst, ok := strs[m.Name]; ok {
			if json.Unmarshal(m.Value, dst) != nil {
				return nil, false
			}
			continue
		}
		switch m.Name {
		case "key_ops":
			if json.Unmarshal(m.Value, &r.KeyOps) != nil || r.KeyOps == nil {
				return nil, false
			}
		case "d", "p", "q", "dp", "dq", "qi", "k":
			r.hasPrivate = true
		}
	}
	return r, true
}

// keyOpsHasNull: encoding/json reads a null inside key_ops as "", the scanner refuses it; the
// one place the two readings may differ, on purpose.
func keyOpsHasNull(data []byte) bool {
	var doc struct {
		KeyOps []*string `json:"key_ops"`
	}
	if json.Unmarshal(data, &doc) != nil {
		return false
	}
	for _, op := range doc.KeyOps {
		if op == nil {
			return true
		}
	}
	return false
}

// FuzzReadJWKMatchesEncodingJSON: for any key object, readJWK accepts exactly what
// encoding/json accepted and reads the same values, and the keys array splits into the
// elements encoding/json found.
func FuzzReadJWKMatchesEncodingJSON(f *testing.F) {
	for _, seed := range []string{
		`{"kty":"RSA","kid":"k1","use":"sig","alg":"RS256","n":"AQAB","e":"AQAB"}`,
		`{"kty":"EC","crv":"P-256","x":"a","y":"b","key_ops":["verify"],"kid":null}`,
		`{"kty":"OKP","crv":"Ed25519","x":"\u0041b","key_ops":[],"d":"x"}`,
		`{"kty":1}`, `{"key_ops":null}`, `{"key_ops":[null]}`, `{"kid":"\ud800"}`,
		`[{"kty":"RSA"}, {"a":[1,{"b":null}]} ,"x",null]`, `[]`, `null`, `[1,]`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := readJWK(data)
		want, ok := readJWKWithEncodingJSON(data)
		switch {
		case ok && err != nil && !keyOpsHasNull(data):
			t.Fatalf("readJWK refused %q that encoding/json read: %v", data, err)
		case !ok && err == nil:
			t.Fatalf("readJWK read %q that encoding/json refused: %+v", data, got)
		case ok && err == nil && !reflect.DeepEqual(got, want):
			t.Fatalf("readJWK read %q as %+v, encoding/json as %+v", data, got, want)
		}
		// rawElements only sees a member value the scanner validated, without surrounding space.
		top, serr := ParseObject([]byte(`{"keys":` + string(data) + `}`))
		if serr != nil {
			return
		}
		v := top[0].Value
		var raw []json.RawMessage
		jerr := json.Unmarshal(v, &raw)
		elems, eok := rawElements(v)
		if (jerr == nil) != eok || len(raw) != len(elems) {
			t.Fatalf("keys %q: encoding/json %d elements (%v), rawElements %d (%v)", v, len(raw), jerr, len(elems), eok)
		}
		for i := range raw {
			if string(raw[i]) != string(elems[i]) {
				t.Fatalf("keys %q: element %d is %q, encoding/json %q", v, i, elems[i], raw[i])
			}
		}
	})
}
