package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/pingedge/pingedge/internal/config"
	"github.com/pingedge/pingedge/internal/login"
	"github.com/pingedge/pingedge/internal/ui"
)

// LogoutOptions are the inputs of `pingedge logout`.
type LogoutOptions struct {
	f *Factory

	All bool
}

// NewCmdLogout builds `pingedge logout`.
func NewCmdLogout(f *Factory, runF func(context.Context, *LogoutOptions) error) *cobra.Command {
	opts := &LogoutOptions{f: f}
	cmd := &cobra.Command{
		Use:   "logout",
		Short: "Revoke the session at the issuer and delete it from this machine",
		Long: `Revoke the refresh token and the cached access token at the issuer (RFC 7009), then delete
them locally. When the issuer cannot be reached they are still deleted here, with a warning.
The profile's settings stay in the config file, so "pingedge login" signs in again.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return logoutRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.All, "all", false, "log out of every profile")
	return cmd
}

func logoutRun(ctx context.Context, opts *LogoutOptions) error {
	f := opts.f
	file, name, paths, err := f.LoadConfig()
	if err != nil {
		return err
	}
	names := []string{name}
	if opts.All {
		names = file.Names()
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	var results []*login.LogoutResult
	for _, n := range names {
		res, err := logoutOne(ctx, f, file, n, paths)
		if err != nil {
			return err
		}
		results = append(results, res)
	}
	if f.Global.JSON() {
		return json.NewEncoder(f.IO.Out).Encode(results)
	}
	renderLogout(f, results)
	return nil
}

func logoutOne(ctx context.Context, f *Factory, file *config.File, name string, paths config.Paths) (*login.LogoutResult, error) {
	prof, _ := file.Effective(name, f.Getenv)
	store, err := f.credStore(prof.Store, paths)
	if err != nil {
		return nil, err
	}
	res, err := login.Logout(ctx, f.sourceConfig(name, store, paths))
	if err != nil {
		return nil, fmt.Errorf("logout of profile %s: %w", name, err)
	}
	if err := deleteDPoPKey(ctx, store, name); err != nil { // the key goes with the session
		return nil, fmt.Errorf("logout of profile %s: delete the DPoP key: %w", name, err)
	}
	return res, nil
}

func renderLogout(f *Factory, results []*login.LogoutResult) {
	s, w := f.ErrStyles(), f.IO.ErrOut
	for _, r := range results {
		for _, warn := range r.Warnings {
			fmt.Fprintf(w, "%s %s\n", s.Warn.Render("warning:"), ui.Sanitize(warn))
		}
		switch {
		case !r.Deleted:
			fmt.Fprintf(w, "profile %s was not logged in\n", r.Profile)
		case len(r.Revoked) > 0:
			fmt.Fprintf(w, "%s Logged out of profile %s (revoked at the issuer: %s)\n", s.Mark(true), r.Profile, strings.ReplaceAll(strings.Join(r.Revoked, ", "), "_", " "))
		default:
			fmt.Fprintf(w, "%s Logged out of profile %s (deleted locally only)\n", s.Mark(true), r.Profile)
		}
	}
}
