package cli

import (
	"context"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/pingedge/pingedge/internal/config"
	"github.com/pingedge/pingedge/internal/credstore"
	"github.com/pingedge/pingedge/internal/httpclient"
	"github.com/pingedge/pingedge/internal/login"
	"github.com/pingedge/pingedge/internal/ui"
)

// IOStreams are the process's standard streams. Data goes to Out; prompts, URLs, progress and
// errors go to ErrOut.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
}

// SystemIO returns the real standard streams.
func SystemIO() IOStreams { return IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr} }

// GlobalOptions are the flags every command accepts (docs/architecture.md, "Command-line contract").
type GlobalOptions struct {
	Profile string
	Config  string
	Output  string // text or json
	NoColor bool
	Verbose bool
}

// JSON reports whether -o json was asked for.
func (g *GlobalOptions) JSON() bool { return g.Output == "json" }

// Factory carries every external edge a command touches, so tests can run commands in-process
// against real servers on loopback with nothing but the clock faked.
type Factory struct {
	IO      IOStreams
	Getenv  func(string) string
	Now     func() time.Time
	HTTP    *http.Client
	Version string
	Global  *GlobalOptions

	// Login edges (internal/cli/tokensource.go): the OS keychain behind the credential store,
	// the browser opener, and the wait between device-flow polls (a fake clock in tests).
	Keyring credstore.Backend
	Browser login.Browser
	Sleep   func(ctx context.Context, d time.Duration) error
}

// Paths resolves the config and state locations from the global flags and the environment.
// The state directory is made ready first: moved from its old place, created 0700, refused when
// others could write to it (config.PrepareStateDir).
func (f *Factory) Paths() (config.Paths, error) {
	p, err := config.ResolvePaths(f.Global.Config, f.Getenv)
	if err != nil {
		return p, err
	}
	return p, config.PrepareStateDir(p)
}

// LoadConfig reads the config file and names the active profile.
func (f *Factory) LoadConfig() (*config.File, string, config.Paths, error) {
	paths, err := f.Paths()
	if err != nil {
		return nil, "", paths, err
	}
	file, err := config.Load(paths.ConfigFile)
	if err != nil {
		return nil, "", paths, err
	}
	return file, file.ProfileName(f.Global.Profile, f.Getenv), paths, nil
}

// Styles returns styles for stdout (data) or stderr (messages).
func (f *Factory) OutStyles() *ui.Styles {
	return ui.New(f.IO.Out, ui.ColorEnabled(f.IO.Out, f.Getenv, f.Global.NoColor))
}

// ErrStyles returns styles for stderr.
func (f *Factory) ErrStyles() *ui.Styles {
	return ui.New(f.IO.ErrOut, ui.ColorEnabled(f.IO.ErrOut, f.Getenv, f.Global.NoColor))
}

// defaultHTTPClient is internal/httpclient's client: timeouts, no redirect for a request that
// carries a secret, localhost names pinned to loopback.
func defaultHTTPClient() *http.Client {
	return httpclient.New(httpclient.Config{Getenv: os.Getenv})
}
