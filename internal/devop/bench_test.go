package devop

import (
	"net/http"
	"testing"
)

// BenchmarkEndpoints measures the provider through real loopback HTTP. The
// discovery fetch is the baseline (router + JSON, no crypto); refresh adds
// rotation bookkeeping and one JWT signature (two with openid: the ID token).
func BenchmarkEndpoints(b *testing.B) {
	b.Run("discovery-baseline", func(b *testing.B) {
		f := benchFixture(b, "RS256")
		for b.Loop() {
			resp, err := f.client.Get(f.srv.Issuer() + discoveryPath)
			if err != nil || resp.StatusCode != http.StatusOK {
				b.Fatal(err)
			}
			resp.Body.Close()
		}
	})
	for _, alg := range []string{"RS256", "ES256"} {
		b.Run("refresh-"+alg, func(b *testing.B) {
			f := benchFixture(b, alg)
			rt := f.login().RefreshToken
			for b.Loop() {
				r := f.refresh(rt)
				if r.RefreshToken == "" {
					b.Fatalf("refresh: %+v", r)
				}
				rt = r.RefreshToken
			}
		})
		b.Run("mint-"+alg, func(b *testing.B) {
			f := benchFixture(b, alg)
			for b.Loop() {
				if _, err := f.srv.MintAccessToken(map[string]any{"sub": "x"}, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func benchFixture(b *testing.B, alg string) *fixture {
	return start(b, Config{SigningAlg: alg})
}
