package cli

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"

	"github.com/pingedge/pingedge/internal/config"
	"github.com/pingedge/pingedge/internal/credstore"
	"github.com/pingedge/pingedge/internal/login"
	"github.com/pingedge/pingedge/internal/ui"
)

// TokenSource returns the access-token source of the active profile, for every command that sends
// requests on the user's behalf (token, tunnel, exec, inspect). It fails with an error matching
// login.ErrLoginRequired (exit 4) when the profile is not logged in.
func (f *Factory) TokenSource(ctx context.Context) (*login.Source, error) {
	file, name, paths, err := f.LoadConfig()
	if err != nil {
		return nil, err
	}
	prof, saved := file.Effective(name, f.Getenv)
	src, err := f.sourceFor(name, prof, paths)
	if err != nil {
		return nil, err
	}
	if saved && prof.Issuer != "" && prof.Issuer != src.Issuer() {
		return nil, &login.LoginRequiredError{Profile: name, Reason: "the profile's issuer changed since the last login"}
	}
	return src, nil
}

func (f *Factory) sourceFor(name string, prof config.Profile, paths config.Paths) (*login.Source, error) {
	store, err := f.credStore(prof.Store, paths)
	if err != nil {
		return nil, err
	}
	cfg := f.sourceConfig(name, store, paths)
	if prof.DPoP { // every refresh carries a proof (RFC 9449 §5)
		signer, err := dpopSigner(context.Background(), store, name, false)
		if err != nil {
			return nil, err
		}
		cfg.HTTP = f.dpopHTTP(signer)
	}
	return login.NewSource(cfg)
}

func (f *Factory) sourceConfig(name string, store credstore.Store, paths config.Paths) login.SourceConfig {
	return login.SourceConfig{
		Profile: name, StateDir: paths.StateDir, Store: store,
		HTTP: f.HTTP, Now: f.Now, Logf: f.verboseLog(),
	}
}

// credStore opens the credential store a profile names: the OS keychain unless the user opted in
// to the plain-text file store (--store file or `store: file`).
func (f *Factory) credStore(kind string, paths config.Paths) (credstore.Store, error) {
	switch kind {
	case "", credstore.KindKeychain:
		if f.Keyring == nil {
			return nil, fmt.Errorf("%w: no keychain backend configured", credstore.ErrUnavailable)
		}
		return &credstore.Keychain{Backend: f.Keyring}, nil
	case credstore.KindFile:
		return &credstore.File{Dir: filepath.Join(paths.StateDir, "credentials")}, nil
	}
	return nil, usageError("unknown credential store %q: use keychain or file", kind)
}

// canOpenBrowser decides --flow auto from the injected environment.
func (f *Factory) canOpenBrowser() bool {
	return f.Browser != nil && login.CanOpenBrowser(runtime.GOOS, f.Getenv)
}

// verboseLog writes -v progress to stderr. Callers never pass it a secret; secret types redact
// themselves even if one slipped in.
func (f *Factory) verboseLog() func(string, ...any) {
	if !f.Global.Verbose {
		return func(string, ...any) {}
	}
	return func(format string, args ...any) {
		// Arguments include issuer-supplied text (a subject, an error description).
		fmt.Fprintf(f.IO.ErrOut, "pingedge: %s\n", ui.Sanitize(fmt.Sprintf(format, args...)))
	}
}
