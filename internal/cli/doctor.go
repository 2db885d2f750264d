package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/pingedge/pingedge/internal/config"
	"github.com/pingedge/pingedge/internal/doctor"
	"github.com/pingedge/pingedge/internal/ui"
)

// DoctorOptions are the inputs of `pingedge doctor`.
type DoctorOptions struct {
	f *Factory
	// Issuer overrides the profile's issuer (check one before logging in).
	Issuer string
}

// NewCmdDoctor builds `pingedge doctor`.
func NewCmdDoctor(f *Factory, runF func(context.Context, *DoctorOptions) error) *cobra.Command {
	opts := &DoctorOptions{f: f}
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check the keychain, browser, issuer, clock, proxy and session, with a fix for each problem",
		Long: `Check what pingedge needs on this machine and for the active profile: the keychain backend,
whether a browser can be opened, the issuer's discovery document and keys, clock skew against
the issuer, proxy and CA settings, and the profile's token state. Each line says passed or
failed and, when it failed, what to do. Exits 1 when a check failed.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return doctorRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Issuer, "issuer", "", "check this issuer instead of the profile's")
	return cmd
}

func doctorRun(ctx context.Context, opts *DoctorOptions) error {
	env, err := doctorEnv(opts)
	if err != nil {
		return err
	}
	checks := doctor.Run(ctx, env)
	if err := renderDoctor(opts.f, checks); err != nil {
		return err
	}
	if doctor.Failed(checks) {
		return &ExitError{Code: ExitFailed, Err: fmt.Errorf("doctor found problems"), Silent: true}
	}
	return nil
}

// doctorEnv loads what the checks need. An unsafe state directory stops every other command
// (Factory.Paths); doctor carries the error into its report instead, so the user sees it beside
// the other checks with the command that fixes it.
func doctorEnv(opts *DoctorOptions) (doctor.Env, error) {
	f := opts.f
	paths, err := config.ResolvePaths(f.Global.Config, f.Getenv)
	if err != nil {
		return doctor.Env{}, err
	}
	stateErr := config.PrepareStateDir(paths)
	if stateErr != nil && !errors.Is(stateErr, config.ErrUnsafeState) {
		return doctor.Env{}, stateErr
	}
	file, err := config.Load(paths.ConfigFile)
	if err != nil {
		return doctor.Env{}, err
	}
	name := file.ProfileName(f.Global.Profile, f.Getenv)
	prof, _ := file.Effective(name, f.Getenv)
	env := doctor.Env{
		GOOS: runtime.GOOS, Getenv: f.Getenv, ReadFile: os.ReadFile,
		Stat: func(p string) error { _, err := os.Stat(p); return err },
		UID:  os.Getuid(), HTTP: f.HTTP, Now: f.Now, Keyring: f.Keyring,
		Profile: name, Issuer: prof.Issuer, StateDir: paths.StateDir, StateDirErr: stateErr,
	}
	if opts.Issuer != "" {
		env.Issuer = opts.Issuer
	}
	env.StoreKind = storeKind(prof.Store)
	if store, err := f.credStore(prof.Store, paths); err == nil {
		env.Store, env.StoreDetail = store, store.Describe()
	}
	return env, nil
}

func renderDoctor(f *Factory, checks []doctor.Check) error {
	if f.Global.JSON() {
		return json.NewEncoder(f.IO.Out).Encode(struct {
			OK     bool           `json:"ok"`
			Checks []doctor.Check `json:"checks"`
		}{!doctor.Failed(checks), checks})
	}
	s := f.OutStyles()
	width := 0
	for _, c := range checks {
		width = max(width, len(c.Name))
	}
	for _, c := range checks {
		fmt.Fprintf(f.IO.Out, "%s %-*s  %s\n", mark(s, c.Status), width, c.Name, ui.Sanitize(c.Detail))
		if c.Fix != "" && c.Status != doctor.Pass {
			fmt.Fprintf(f.IO.Out, "  %*s  %s %s\n", width, "", s.Key.Render("fix:"), ui.Sanitize(c.Fix))
		}
	}
	return nil
}

func mark(s *ui.Styles, st doctor.Status) string {
	switch st {
	case doctor.Pass:
		return s.Mark(true)
	case doctor.Fail:
		return s.Mark(false)
	case doctor.Warn:
		return s.Warn.Render("!")
	}
	return s.Dim.Render("-")
}
