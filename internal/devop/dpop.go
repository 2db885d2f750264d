package devop

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// DPoP at the token endpoint (RFC 9449 §5). zitadel's op has the proof's types
// (oidc.DPoPProofClaims, oidc.JWKThumbprint) but does not check proofs or bind tokens, so
// this wrapper does, with go-jose: a second implementation, independent of the edge's
// (internal/verify/dpop), so the end-to-end tests check one against the other. A token request
// with a valid proof gets an access token with cnf.jkt and token_type DPoP; its refresh tokens
// are bound to the key too (§5: a public client's must be), so a refresh needs a proof by it.

// proofLifetime is how old a proof the token endpoint takes (RFC 9449 §11.1).
const proofLifetime = time.Minute

// errUseNonce: the proof lacks the token endpoint's current nonce (RFC 9449 §8).
var errUseNonce = errors.New("the proof must carry the nonce in the DPoP-Nonce header")

type jktKey struct{}

// jktFrom is the thumbprint of the key a valid proof on this token request was made with.
func jktFrom(ctx context.Context) string {
	s, _ := ctx.Value(jktKey{}).(string)
	return s
}

// withDPoP checks a DPoP proof on token requests and marks the request with its key.
func (s *Server) withDPoP(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proofs := r.Header.Values(oidc.DPoPHeader)
		if r.URL.Path != tokenPath || len(proofs) == 0 {
			next.ServeHTTP(w, r)
			return
		}
		if len(proofs) != 1 {
			writeOAuthError(w, http.StatusBadRequest, "invalid_dpop_proof", "more than one DPoP header")
			return
		}
		jkt, err := s.checkProof(proofs[0], r.Method, s.issuer+tokenPath)
		switch {
		case errors.Is(err, errUseNonce): // §8: say which nonce to retry with
			w.Header().Set("DPoP-Nonce", s.dpopNonces.current(time.Now()))
			writeOAuthError(w, http.StatusBadRequest, "use_dpop_nonce", err.Error())
			return
		case err != nil:
			writeOAuthError(w, http.StatusBadRequest, "invalid_dpop_proof", err.Error())
			return
		}
		buf := &bufferWriter{header: http.Header{}, status: http.StatusOK}
		next.ServeHTTP(buf, r.WithContext(context.WithValue(r.Context(), jktKey{}, jkt)))
		if s.dpopNonces != nil { // §8.2: the nonce for the client's next request
			w.Header().Set("DPoP-Nonce", s.dpopNonces.current(time.Now()))
		}
		writeDPoPTokenResponse(w, buf)
	})
}

// checkProof is RFC 9449 §4.3 for the token endpoint (no access token, so no ath).
func (s *Server) checkProof(proof, method, url string) (string, error) {
	jws, err := jose.ParseSigned(proof, []jose.SignatureAlgorithm{jose.ES256, jose.ES384, jose.RS256, jose.PS256, jose.EdDSA})
	if err != nil || len(jws.Signatures) != 1 {
		return "", errors.New("the proof is not a JWS with an asymmetric algorithm")
	}
	h := jws.Signatures[0].Protected
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != string(oidc.DPoPProofType) {
		return "", errors.New("typ is not dpop+jwt")
	}
	if h.JSONWebKey == nil || !h.JSONWebKey.IsPublic() || !h.JSONWebKey.Valid() {
		return "", errors.New("the proof has no public jwk")
	}
	if err := oidc.ValidateDPoPKeyStrength(h.JSONWebKey.Key); err != nil {
		return "", err
	}
	payload, err := jws.Verify(h.JSONWebKey)
	if err != nil {
		return "", errors.New("the proof's signature does not verify with its jwk")
	}
	var c oidc.DPoPProofClaims
	var n struct {
		Nonce string `json:"nonce"`
	}
	if json.Unmarshal(payload, &c) != nil || json.Unmarshal(payload, &n) != nil {
		return "", errors.New("the proof's claims do not parse")
	}
	iat := c.IssuedAt.AsTime()
	now := time.Now()
	switch {
	case c.JWTID == "":
		return "", errors.New("jti missing")
	case c.HTTPMethod != method || c.HTTPURI != url:
		return "", errors.New("htm/htu are not this token endpoint request")
	case iat.After(now.Add(5*time.Second)) || now.Sub(iat) > proofLifetime:
		return "", errors.New("iat is outside the proof lifetime")
	case s.dpopNonces != nil && !s.dpopNonces.valid(n.Nonce, now):
		return "", errUseNonce
	}
	if err := s.dpopJTI.add(c.JWTID, iat, now); err != nil {
		return "", err
	}
	return oidc.JWKThumbprint(h.JSONWebKey)
}

// writeDPoPTokenResponse passes the op's answer on, with token_type DPoP in a successful one
// (RFC 9449 §5): the op writes Bearer, and a client that asked for DPoP must see DPoP.
func writeDPoPTokenResponse(w http.ResponseWriter, buf *bufferWriter) {
	body := buf.amendJSON(func(doc map[string]any) bool {
		if doc["access_token"] == nil {
			return false
		}
		doc["token_type"] = "DPoP"
		return true
	})
	buf.replay(w, bytes.TrimSpace(body))
}
