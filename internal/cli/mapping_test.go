package cli

import (
	"context"
	"errors"
	"io"
	"reflect"
	"testing"
	"time"

	"github.com/spf13/cobra"
)

type ctxKey struct{}

// runMapped executes one command built with a runF that captures what RunE passes on: the
// options and the context. Commands hold no logic, so what is left to test in them is this
// mapping (flags → options, ctx as an argument, never stored in the options).
func runMapped(t *testing.T, cmd *cobra.Command, got *context.Context, args ...string) {
	t.Helper()
	cmd.SetArgs(append([]string{}, args...)) // never nil: cobra would read os.Args
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	ctx := context.WithValue(t.Context(), ctxKey{}, "run")
	if err := cmd.ExecuteContext(ctx); err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	if *got == nil || (*got).Value(ctxKey{}) != "run" {
		t.Fatalf("%v: runF did not receive the command's context", args)
	}
}

// capture returns a runF that records its arguments.
func capture[O any](ctx *context.Context, opts **O) func(context.Context, *O) error {
	return func(c context.Context, o *O) error { *ctx, *opts = c, o; return nil }
}

func TestFlagsMapToOptions(t *testing.T) {
	f := &Factory{Global: &GlobalOptions{}, Getenv: func(string) string { return "" }}
	var ctx context.Context

	var tok *TokenOptions
	runMapped(t, NewCmdToken(f, capture(&ctx, &tok)), &ctx, "--min-ttl", "10m", "--format", "header")
	if tok.MinTTL != 10*time.Minute || tok.Format != "header" || !tok.minTTLSet {
		t.Errorf("token: %+v", tok)
	}
	runMapped(t, NewCmdToken(f, capture(&ctx, &tok)), &ctx)
	if tok.MinTTL != defaultMinTTL || tok.Format != "raw" || tok.minTTLSet {
		t.Errorf("token defaults: %+v", tok)
	}

	var ver *VerifyOptions
	runMapped(t, NewCmdVerify(f, capture(&ctx, &ver)), &ctx, "--policy", "p.yaml", "--method", "POST", "--path", "/x", "TOK")
	if ver.Engine.Policy != "p.yaml" || ver.Method != "POST" || ver.Path != "/x" || ver.Token != "TOK" || !ver.methodSet {
		t.Errorf("verify: %+v", ver)
	}

	runMapped(t, NewCmdVerify(f, capture(&ctx, &ver)), &ctx, "--policy", "p.yaml", "--url", "https://api.example.com/x", "--dpop-proof", "PROOF", "TOK")
	if ver.DPoP.URL != "https://api.example.com/x" || ver.DPoP.Proof != "PROOF" || ver.Path != "" {
		t.Errorf("verify --url --dpop-proof: %+v", ver)
	}

	var ins *InspectOptions
	runMapped(t, NewCmdInspect(f, capture(&ctx, &ins)), &ctx, "--policy", "p.yaml", "--path", "/a", "-")
	if ins.Engine.Policy != "p.yaml" || ins.Path != "/a" || ins.Method != "GET" || ins.Token != "-" || ins.FromProfile {
		t.Errorf("inspect: %+v", ins)
	}
	runMapped(t, NewCmdInspect(f, capture(&ctx, &ins)), &ctx)
	if !ins.FromProfile {
		t.Errorf("inspect without an argument must use the profile's token: %+v", ins)
	}

	var st *StatusOptions
	runMapped(t, NewCmdStatus(f, capture(&ctx, &st)), &ctx, "--all")
	if !st.All {
		t.Errorf("status: %+v", st)
	}

	var ex *ExecOptions
	runMapped(t, NewCmdExec(f, capture(&ctx, &ex)), &ctx, "--min-ttl", "1h", "--", "env", "-i")
	if ex.MinTTL != time.Hour || !ex.minTTLSet || !reflect.DeepEqual(ex.Args, []string{"env", "-i"}) {
		t.Errorf("exec: %+v", ex)
	}

	var lo *LoginOptions
	runMapped(t, NewCmdLogin(f, capture(&ctx, &lo)), &ctx, "--issuer", "https://i.example.com", "--client-id", "c", "--flow", "device", "--store", "file", "--port", "8765")
	if lo.Issuer != "https://i.example.com" || lo.ClientID != "c" || lo.Flow != "device" || lo.Store != "file" || lo.Port != 8765 || !lo.changed("port") || lo.changed("region") {
		t.Errorf("login: %+v", lo)
	}

	var out *LogoutOptions
	runMapped(t, NewCmdLogout(f, capture(&ctx, &out)), &ctx, "--all")
	if !out.All {
		t.Errorf("logout: %+v", out)
	}

	var tu *TunnelOptions
	runMapped(t, NewCmdTunnel(f, capture(&ctx, &tu)), &ctx, "--to", "https://api.example.com", "--listen", "127.0.0.1:9", "--route", "/a=http://127.0.0.1:1")
	if tu.To != "https://api.example.com" || tu.Listen != "127.0.0.1:9" || !reflect.DeepEqual(tu.Routes, []string{"/a=http://127.0.0.1:1"}) {
		t.Errorf("tunnel: %+v", tu)
	}

	var doc *DoctorOptions
	runMapped(t, NewCmdDoctor(f, capture(&ctx, &doc)), &ctx, "--issuer", "https://i.example.com")
	if doc.Issuer != "https://i.example.com" {
		t.Errorf("doctor: %+v", doc)
	}

	var pr *ProfilesOptions
	runMapped(t, NewCmdProfiles(f, capture(&ctx, &pr)), &ctx)
	var vo *VersionOptions
	runMapped(t, NewCmdVersion(f, capture(&ctx, &vo)), &ctx)
	if pr == nil || vo == nil {
		t.Error("profiles/version runF not called")
	}
}

// TestEdgeServePublicURLMapsToOptions: --public-url reaches edge.Options normalised (scheme and
// host lower case, no trailing slash), and a URL with a path is a usage error (exit 2).
func TestEdgeServePublicURLMapsToOptions(t *testing.T) {
	f := &Factory{Global: &GlobalOptions{}, Getenv: func(string) string { return "" }, IO: IOStreams{Out: io.Discard, ErrOut: io.Discard}}
	var ctx context.Context
	var es *EdgeServeOptions
	runMapped(t, newCmdEdgeServe(f, capture(&ctx, &es)), &ctx, "--policy", "p.yaml", "--origin", "http://127.0.0.1:3000", "--public-url", "HTTPS://API.Example.com/")
	eo, err := edgeOptions(f, es)
	if err != nil || eo.PublicURL != "https://api.example.com" {
		t.Errorf("edge serve --public-url: %q, %v", eo.PublicURL, err)
	}
	es.PublicURL = "https://api.example.com/v1"
	var ee *ExitError
	if _, err := edgeOptions(f, es); !errors.As(err, &ee) || ee.Code != ExitUsage {
		t.Errorf("a public URL with a path: %v, want a usage error", err)
	}
}
