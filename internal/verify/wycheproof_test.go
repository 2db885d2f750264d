package verify

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pingedge/pingedge/internal/verify/jose"
)

// wycheproofDir is where the repository keeps its copy of the Wycheproof vectors (see the README
// there for the upstream commit and licence). A plain clone carries them, so the suite needs
// nothing outside the repository; `go test` runs with the package directory as working directory.
const wycheproofDir = "testdata/wycheproof"

type wpFile struct {
	TestGroups []struct {
		PublicKeyJwk json.RawMessage `json:"publicKeyJwk"`
		KeyJwk       json.RawMessage `json:"keyJwk"`
		PublicKey    struct {
			Wx, Wy string
		} `json:"publicKey"`
		Public json.RawMessage `json:"public"`
		Tests  []struct {
			TcID    int             `json:"tcId"`
			Comment string          `json:"comment"`
			Msg     string          `json:"msg"`
			Sig     string          `json:"sig"`
			JWS     json.RawMessage `json:"jws"`
			Result  string          `json:"result"`
		} `json:"tests"`
	} `json:"testGroups"`
}

func loadWycheproof(t *testing.T, name string) *wpFile {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(wycheproofDir, name))
	if err != nil {
		t.Fatal(err)
	}
	var f wpFile
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	return &f
}

// TestWycheproofSignatures runs the raw signature vectors through the same JWK parser and
// signature check Verify uses: every valid accepted, every invalid rejected; the one
// "acceptable" RSA vector (missing NULL in the DigestInfo) is rejected, as crypto/rsa does.
func TestWycheproofSignatures(t *testing.T) {
	for _, tc := range []struct {
		file string
		alg  jose.Algorithm
	}{
		{"rsa_signature_2048_sha256_test.json", jose.RS256},
		{"rsa_pss_2048_sha256_mgf1_32_test.json", jose.PS256},
		{"ecdsa_secp256r1_sha256_p1363_test.json", jose.ES256},
		{"ed25519_test.json", jose.EdDSA},
	} {
		t.Run(string(tc.alg), func(t *testing.T) {
			f := loadWycheproof(t, tc.file)
			counts := map[string]int{}
			for gi, g := range f.TestGroups {
				key := wycheproofKey(t, tc.alg, g.KeyJwk, g.PublicKeyJwk, g.PublicKey.Wx, g.PublicKey.Wy)
				for _, v := range g.Tests {
					msg, _ := hex.DecodeString(v.Msg)
					sig, _ := hex.DecodeString(v.Sig)
					err := jose.VerifySignature(tc.alg, key, msg, sig)
					counts[v.Result]++
					switch {
					case v.Result == "valid" && err != nil:
						t.Errorf("group %d tc %d (%s): valid vector rejected: %v", gi, v.TcID, v.Comment, err)
					case v.Result != "valid" && err == nil:
						t.Errorf("group %d tc %d (%s): %s vector accepted", gi, v.TcID, v.Comment, v.Result)
					case err != nil && !errors.Is(err, jose.ErrSignature):
						t.Errorf("tc %d: rejected for the wrong reason: %v", v.TcID, err)
					}
				}
			}
			if counts["valid"] == 0 || counts["invalid"] == 0 {
				t.Fatalf("vectors not read: %v", counts)
			}
			t.Logf("%s: %v", tc.file, counts)
		})
	}
}

// wycheproofKey parses the group's JWK with ParseJWK; ECDSA groups without one get a JWK built
// from wx/wy.
func wycheproofKey(t *testing.T, alg jose.Algorithm, jwks ...any) *jose.Key {
	t.Helper()
	raw := jwks[0].(json.RawMessage)
	if len(raw) == 0 {
		raw = jwks[1].(json.RawMessage)
	}
	if len(raw) == 0 {
		pad := func(h string) string {
			b, _ := hex.DecodeString(h)
			b = append(make([]byte, 32), trimZeros(b)...)
			return enc(b[len(b)-32:])
		}
		raw = mustJSON(map[string]string{"kty": "EC", "crv": "P-256", "x": pad(jwks[2].(string)), "y": pad(jwks[3].(string))})
	}
	k, err := jose.ParseJWK(raw)
	if err != nil {
		t.Fatalf("%s key: %v", alg, err)
	}
	return k
}

func trimZeros(b []byte) []byte {
	for len(b) > 0 && b[0] == 0 {
		b = b[1:]
	}
	return b
}

// jwsExpectations: Wycheproof "valid" cases pingedge refuses on purpose, with the reason.
var jwsRefusedValid = map[int]error{
	// HS256: symmetric algorithms are never accepted.
	1: jose.ErrAlgorithm, 348: jose.ErrAlgorithm, 352: jose.ErrAlgorithm, 357: jose.ErrAlgorithm, 358: jose.ErrAlgorithm,
	359: jose.ErrAlgorithm, 376: jose.ErrAlgorithm, 377: jose.ErrAlgorithm,
	// "valid" only because the MAC covers the literal characters: "?" is not base64url.
	372: jose.ErrMalformed, 373: jose.ErrMalformed,
	// ES512 (P-521) is outside pingedge's algorithm set.
	347: jose.ErrAlgorithm, 351: jose.ErrAlgorithm,
	// PS384 token with a JWK whose alg is PS256: a key is used only for its own alg.
	346: jose.ErrKeyMismatch, 350: jose.ErrKeyMismatch,
}

var jwsMalformed = map[string]bool{
	"rejectsMissingSignatureAndSeparator": true, "rejectsMissingPayloadAndSeparator": true,
	"rejectsMissingHeader": true, "rejectsMissingHeaderAndSeparator": true,
	"rejectsMissingHeaderAndSignature": true, "rejectsMissingHeaderSignatureAndSeparators": true,
	"rejectsMissingHeaderSignatureAndSeparator": true, "rejectsEmptyString": true,
	"rejectsExtraEmptyComponent": true, "rejectsExtraComponent": true, "rejectsValidJsonSerialization": true,
	"rejectsSpacesInMac": true, "rejectsInvalidCharacterInsertedInMac": true,
	"rejects0ReplacedbyInvalidCharacter": true, "rejectsInvalidCharacters": true, "spacesInHeader": true,
	"invalidCharactersInHeader": true, "spacesInPayload": true, "invalidCharactersInPayload": true,
	// invalidBase64Padding and invalidBase64PaddingInPayload (tc 367, 370) carry the same bytes
	// as the valid tc 357 in this copy of the vectors, so only their HS256 alg refuses them.
	"InvalidCharacterInPayload": true, "ModifiedUnusedBitsInPayload": true, "MacOfIncorrectlyEncodedMessage": true,
}

// expectedJWS is the reason pingedge must give for a Wycheproof JWS case (nil: accept).
func expectedJWS(tcID int, comment, result, alg string) error {
	if want, ok := jwsRefusedValid[tcID]; ok {
		return want
	}
	switch {
	case result == "valid":
		return nil
	case jwsMalformed[comment]:
		return jose.ErrMalformed
	case strings.EqualFold(alg, "none") || strings.HasPrefix(alg, "HS"):
		return jose.ErrAlgorithm
	case comment == "rejectsModifiedHeader" || comment == "rejectWrongUse" || comment == "rejectWrongKeyOps":
		return jose.ErrUnknownKey
	case strings.HasPrefix(comment, "Using") && alg != "PS512":
		return jose.ErrKeyMismatch // an RS*/PS256/PS384 header on the PS512-only key
	}
	return jose.ErrSignature
}

// TestWycheproofJWS runs the 401 whole-JWS cases through the engine's JWS steps (parse, alg,
// typ, key, signature; the payloads are not JWT claims). Every invalid case is rejected for
// the expected reason; valid cases are accepted except the ones listed in jwsRefusedValid.
func TestWycheproofJWS(t *testing.T) {
	f := loadWycheproof(t, "json_web_signature_test.json")
	accepted, refused := 0, 0
	for _, g := range f.TestGroups {
		ks := jose.NewStaticKeys()
		if len(g.Public) > 0 {
			if s, err := jose.NewStaticKeySet(mustJSON(map[string]any{"keys": []json.RawMessage{g.Public}})); err == nil {
				ks = s
			} else if !errors.Is(err, jose.ErrJWKS) {
				t.Fatal(err)
			}
		}
		p := testPolicy()
		e, err := NewEngine(p, EngineOptions{KeySet: ks})
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range g.Tests {
			var token string
			if json.Unmarshal(v.JWS, &token) != nil {
				token = string(v.JWS) // JSON serialization: the object itself
			}
			alg := ""
			if tok, err := jose.ParseUnverified(token, 0); err == nil {
				alg = tok.Header.Alg
			}
			want := expectedJWS(v.TcID, v.Comment, v.Result, alg)
			_, err := e.verifySignature(bg, token)
			switch {
			case want == nil && err != nil:
				t.Errorf("tc %d (%s): valid case rejected: %v", v.TcID, v.Comment, err)
			case want != nil && !errors.Is(err, want):
				t.Errorf("tc %d (%s, %s): want %v, got %v", v.TcID, v.Comment, v.Result, want, err)
			}
			if err == nil {
				accepted++
			} else if v.Result == "valid" {
				refused++
			}
		}
	}
	if accepted == 0 {
		t.Fatal("no case accepted: vectors not exercised")
	}
	t.Logf("accepted %d valid cases; refused %d valid cases on purpose (HS256, ES512, key alg pinning)", accepted, refused)
}
