package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/pingedge/pingedge/internal/config"
	"github.com/pingedge/pingedge/internal/credstore"
	"github.com/pingedge/pingedge/internal/dpopkey"
	"github.com/pingedge/pingedge/internal/secret"
	"github.com/pingedge/pingedge/internal/ui"
	"github.com/pingedge/pingedge/internal/verify/jose"
)

// DPoP on the client (RFC 9449, docs/dpop.md): a profile with `dpop: true` (set by
// `login --dpop`) has a P-256 key in its credential store next to the refresh token; every
// token request of the profile carries a proof by it (dpopkey.Transport), and the tunnel signs
// a proof per request.

// dpopSigner loads the profile's key, creating it when create is set and there is none.
func dpopSigner(ctx context.Context, store credstore.Store, profile string, create bool) (*dpopkey.Signer, error) {
	item := profile + dpopkey.ItemSuffix
	if err := credstore.CheckProfile(item); err != nil {
		return nil, usageError("profile name too long for a DPoP key item: %w", err)
	}
	stored, err := store.Get(ctx, item)
	switch {
	case err == nil:
		k, perr := dpopkey.Parse(stored.Reveal())
		if perr != nil {
			return nil, fmt.Errorf("the DPoP key of profile %s: %w; run `pingedge logout` and `pingedge login --dpop` to make a new one", profile, perr)
		}
		return dpopkey.NewSigner(k)
	case !errors.Is(err, credstore.ErrNotFound):
		return nil, fmt.Errorf("read the DPoP key of profile %s: %w", profile, err)
	case !create:
		return nil, fmt.Errorf("profile %s uses DPoP but its key is gone from %s: run `pingedge login --dpop`", profile, store.Describe())
	}
	k, err := dpopkey.Generate()
	if err != nil {
		return nil, err
	}
	enc, err := dpopkey.Marshal(k)
	if err != nil {
		return nil, err
	}
	if err := store.Set(ctx, item, secret.String(enc)); err != nil {
		return nil, fmt.Errorf("store the DPoP key of profile %s: %w", profile, err)
	}
	return dpopkey.NewSigner(k)
}

// dpopHTTP is the factory's HTTP client with proofs on token requests.
func (f *Factory) dpopHTTP(s *dpopkey.Signer) *http.Client {
	c := *f.HTTP
	c.Transport = &dpopkey.Transport{Base: f.HTTP.Transport, Signer: s, IsToken: dpopkey.IsTokenRequest, Now: f.Now}
	return &c
}

// profileDPoP is the active profile's signer, nil when the profile does not use DPoP.
func (f *Factory) profileDPoP(ctx context.Context) (*dpopkey.Signer, error) {
	file, name, paths, err := f.LoadConfig()
	if err != nil {
		return nil, err
	}
	prof, _ := file.Effective(name, f.Getenv)
	return f.signerFor(ctx, name, prof, paths)
}

func (f *Factory) signerFor(ctx context.Context, name string, prof config.Profile, paths config.Paths) (*dpopkey.Signer, error) {
	if !prof.DPoP {
		return nil, nil
	}
	store, err := f.credStore(prof.Store, paths)
	if err != nil {
		return nil, err
	}
	return dpopSigner(ctx, store, name, false)
}

// deleteDPoPKey removes the profile's key at logout (absent is fine).
func deleteDPoPKey(ctx context.Context, store credstore.Store, profile string) error {
	if credstore.CheckProfile(profile+dpopkey.ItemSuffix) != nil {
		return nil
	}
	return store.Delete(ctx, profile+dpopkey.ItemSuffix)
}

// writeDPoPToken is writeToken for a DPoP profile: --format header prints the two header lines
// one request needs (RFC 9449 §7.1), with a proof for --method and --url; json says DPoP.
func writeDPoPToken(opts *TokenOptions, s *dpopkey.Signer, tok secret.AccessToken) error {
	out := opts.f.IO.Out
	switch opts.Format {
	case "header":
		u, err := url.Parse(opts.URL)
		if opts.URL == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return usageError("this profile uses DPoP: a proof is for one request, so give --url (an http(s) URL) and --method")
		}
		u.RawQuery, u.Fragment = "", ""
		proof, err := s.Proof(strings.ToUpper(opts.Method), u.String(), tok.Value.Reveal(), "", opts.f.Now())
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(out, "Authorization: DPoP %s\nDPoP: %s\n", tok.Value.Reveal(), proof)
		return err
	case "json":
		return json.NewEncoder(out).Encode(tokenJSON{AccessToken: tok.Value.Reveal(), TokenType: "DPoP", ExpiresAt: optionalTime(tok.Expiry)})
	case "k8s":
		return usageError("this profile uses DPoP, and kubectl cannot sign DPoP proofs: use a profile without DPoP for kubectl")
	}
	return writeToken(opts.f, opts.Format, tok)
}

// dpopBinding is what inspect says about a token's DPoP binding (RFC 9449 §6.1): the cnf.jkt
// it is bound to and whether the active profile's key is that key.
type dpopBinding struct {
	JKT              string `json:"jkt"`
	ProfileKeyMatch  *bool  `json:"profile_key_matches,omitempty"` // nil: the profile has no DPoP key
	ProfileKeyDetail string `json:"-"`
}

func inspectBinding(ctx context.Context, f *Factory, t *jose.Token) *dpopBinding {
	if t == nil {
		return nil
	}
	var p struct {
		Cnf struct {
			JKT string `json:"jkt"`
		} `json:"cnf"`
	}
	if json.Unmarshal(t.Payload, &p) != nil || p.Cnf.JKT == "" {
		return nil
	}
	b := &dpopBinding{JKT: p.Cnf.JKT, ProfileKeyDetail: "the active profile has no DPoP key"}
	if s, err := f.profileDPoP(ctx); err == nil && s != nil {
		match := s.JKT() == p.Cnf.JKT
		b.ProfileKeyMatch = &match
		b.ProfileKeyDetail = "does not match the active profile's key: this token is useless with it"
		if match {
			b.ProfileKeyDetail = "matches the active profile's key"
		}
	}
	return b
}

func renderBinding(w io.Writer, s *ui.Styles, b *dpopBinding) {
	if b == nil {
		return
	}
	fmt.Fprintf(w, "\n%s\n", s.Title.Render("DPoP binding"))
	fmt.Fprintf(w, "  cnf.jkt %s\n  %s\n", ui.Sanitize(b.JKT), b.ProfileKeyDetail)
}

// dpopExecEnv is what exec adds for a DPoP profile: PINGEDGE_TOKEN_TYPE=DPoP, and
// PINGEDGE_PROFILE naming the profile, so the child's helper for each request is
// `pingedge token --format header --method M --url U` (a proof is for one request, so no
// environment variable can carry one).
func (f *Factory) dpopExecEnv(ctx context.Context) ([]string, error) {
	s, err := f.profileDPoP(ctx)
	if err != nil || s == nil {
		return nil, err
	}
	file, name, _, err := f.LoadConfig()
	if err != nil || file == nil {
		return nil, err
	}
	return []string{"PINGEDGE_TOKEN_TYPE=DPoP", "PINGEDGE_PROFILE=" + name}, nil
}
