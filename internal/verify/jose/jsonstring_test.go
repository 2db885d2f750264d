package jose

import (
	"encoding/json"
	"testing"
)

// FuzzAppendJSONString: AppendJSONString writes every string exactly as json.Marshal does (the
// audit line, the Worker's wire answer and DPoP proofs rely on it).
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"GET", "https://h/a&b", `"\`, "\x00\u2028ü\xff", "<>", "\x7f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := AppendJSONString([]byte("x"), s); string(got) != "x"+string(want) {
			t.Fatalf("%q: %s, json.Marshal %s", s, got[1:], want)
		}
	})
}
