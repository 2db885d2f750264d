package jose

import (
	"crypto/sha256"
	"testing"
)

// TestThumbprintRFC7638 checks the RFC 7638 §3.1 example: the RSA key whose thumbprint the RFC
// gives, spelled with extra members (kid, alg) that must not change it.
func TestThumbprintRFC7638(t *testing.T) {
	jwk := `{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"}`
	k, err := ParseJWK([]byte(jwk))
	if err != nil {
		t.Fatal(err)
	}
	got, err := Thumbprint(k)
	if err != nil {
		t.Fatal(err)
	}
	if want := "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"; got != want {
		t.Fatalf("thumbprint %s, want %s (RFC 7638 §3.1)", got, want)
	}
}

// TestThumbprintEC checks an EC key against the thumbprint computed by hand from the members.
func TestThumbprintEC(t *testing.T) {
	// RFC 7515 A.3's P-256 key; the thumbprint is SHA-256 of its canonical members.
	jwk := `{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","kid":"x"}`
	k, err := ParseJWK([]byte(jwk))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := Thumbprint(k)
	canon := `{"crv":"P-256","kty":"EC","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}`
	if want := sha256B64(canon); got != want {
		t.Fatalf("thumbprint %s, want %s", got, want)
	}
}

func sha256B64(s string) string {
	sum := sha256.Sum256([]byte(s))
	return b64.EncodeToString(sum[:])
}
