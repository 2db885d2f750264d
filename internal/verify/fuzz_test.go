package verify

import (
	"strings"
	"testing"

	"github.com/pingedge/pingedge/internal/verify/jose"
)

// FuzzVerify: the parser and verifier never panic, and nothing but the exact seed tokens ever
// verifies (a mutation that still verifies would be a malleability or parsing bug).
func FuzzVerify(f *testing.F) {
	e := newTestEngine(f, testPolicy())
	valid := map[string]bool{}
	for _, alg := range jose.SupportedAlgorithms {
		tok := mint(f, alg, goodClaims(), nil)
		valid[tok] = true
		f.Add(tok)
	}
	for _, s := range []string{"", ".", "..", "a.b.c", "eyJhbGciOiJub25lIn0.e30.", `{"payload":""}`,
		"eyJhbGciOiJSUzI1NiIsImFsZyI6Ik5vbmUifQ.e30.c2ln", strings.Repeat("A.", 50)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		c, err := e.Verify(bg, token)
		if err == nil && !valid[token] {
			t.Fatalf("a token that was never signed verified: %q (%+v)", token, c)
		}
		if err != nil && len(err.Error()) > 400 {
			t.Fatalf("error too long (%d bytes)", len(err.Error()))
		}
		_, _ = jose.ParseUnverified(token, 0)
	})
}
