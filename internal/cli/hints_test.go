package cli

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/pingedge/pingedge/internal/login"
	"github.com/pingedge/pingedge/internal/tunnel"
)

// flagRE finds a command-line flag name in a message ("--flow", "--listen").
var flagRE = regexp.MustCompile(`(^|[\s(])--[a-z]`)

// allowedFlagMentions are strings that reach a person other than through the CLI's error
// renderer: the tunnel's HTTP answers to a browser or client and its running log, which have no
// hint line.
var allowedFlagMentions = map[string]bool{
	"../tunnel/handler.go": true, "../tunnel/proxy.go": true, "../tunnel/cookies.go": true,
	// Describe says where the refresh token is, for status: "(opted in with --store file)".
	"../credstore/file.go": true,
}

// TestDomainPackagesNameNoFlags holds issue 13's rule: internal/login and internal/tunnel
// describe what went wrong; the flag or command that fixes it is the CLI's hint (exit.go,
// login_errors.go), so a hint is never written twice.
func TestDomainPackagesNameNoFlags(t *testing.T) {
	for _, pkg := range []string{"../login", "../tunnel", "../credstore"} {
		files, err := filepath.Glob(filepath.Join(pkg, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, file := range files {
			if strings.HasSuffix(file, "_test.go") || allowedFlagMentions[filepath.ToSlash(file)] {
				continue
			}
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, file, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				lit, ok := n.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					return true
				}
				if s, err := strconv.Unquote(lit.Value); err == nil && flagRE.MatchString(s) {
					t.Errorf("%s: message names a flag: %q (put it in the CLI's hint)", fset.Position(lit.Pos()), s)
				}
				return true
			})
		}
	}
}

// TestDomainErrorsGetOneTypedHint: each error type of the domain packages maps to one hint,
// and the message itself carries none.
func TestDomainErrorsGetOneTypedHint(t *testing.T) {
	cases := []struct {
		err      error
		code     int
		wantHint string
	}{
		{&login.LoginRequiredError{Profile: "work", Reason: "not logged in"}, ExitLoginRequired, "pingedge login --profile work"},
		{fmt.Errorf("wrapped: %w", &login.UnsupportedFlowError{Flow: login.FlowPKCE, Why: "x"}), ExitFailed, "pingedge login --flow device"},
		{&login.UnsupportedFlowError{Flow: login.FlowDevice, Why: "x"}, ExitFailed, "--flow pkce"},
		{fmt.Errorf("%w: 404", login.ErrDiscovery), ExitFailed, "check --issuer"},
		{fmt.Errorf("%w on 127.0.0.1:1: in use", login.ErrRedirectPort), ExitUsage, "another --port"},
		{fmt.Errorf("%w after 3s", login.ErrTimeout), ExitFailed, "--timeout"},
		{fmt.Errorf("%w on x: bad", tunnel.ErrListen), ExitUsage, "--listen 127.0.0.1:PORT"},
		{fmt.Errorf("%w: 0.0.0.0:1", tunnel.ErrNotLoopback), ExitUsage, "--allow-remote"},
		{fmt.Errorf("%w: * would let any web page act as you", tunnel.ErrBadOrigin), ExitUsage, "--allow-origin http://localhost:3000"},
		// An ExitError without a hint keeps the hint its cause implies.
		{&ExitError{Code: ExitFailed, Err: fmt.Errorf("%w: 404", login.ErrDiscovery)}, ExitFailed, "check --issuer"},
		// An ExitError's own hint wins.
		{&ExitError{Code: ExitUsage, Err: errors.New("x"), Hint: "mine"}, ExitUsage, "mine"},
	}
	for _, c := range cases {
		code, hint := exitCode(c.err)
		if code != c.code || !strings.Contains(hint, c.wantHint) || strings.HasPrefix(hint, "try:") {
			t.Errorf("%v: exit %d hint %q, want %d with %q", c.err, code, hint, c.code, c.wantHint)
		}
		if flagRE.MatchString(c.err.Error()) && c.err.Error() != hint {
			t.Errorf("%v: the message names a flag as well as the hint", c.err)
		}
	}
}
