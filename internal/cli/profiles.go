package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/pingedge/pingedge/internal/ui"
)

// ProfilesOptions are the inputs of `pingedge profiles` and `pingedge profiles use`.
type ProfilesOptions struct {
	f    *Factory
	Name string // profiles use NAME
}

// NewCmdProfiles builds `pingedge profiles` (list) with its `use` subcommand.
func NewCmdProfiles(f *Factory, runF func(context.Context, *ProfilesOptions) error) *cobra.Command {
	opts := &ProfilesOptions{f: f}
	cmd := &cobra.Command{
		Use:   "profiles",
		Short: "List the saved profiles: issuer, user, credential store and token state",
		Long: `List every profile of the config file with its issuer, the signed-in user, where its
refresh token is kept and the state of its token (as "pingedge status" judges it). The current
profile, used when neither --profile nor PINGEDGE_PROFILE names one, is marked with *.
Nothing contacts the issuer. "pingedge profiles use NAME" makes NAME the current profile.`,
		Example: `  pingedge profiles
  pingedge profiles use work
  pingedge status --all`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return profilesRun(cmd.Context(), opts)
		},
	}
	cmd.AddCommand(newCmdProfilesUse(f))
	return cmd
}

func newCmdProfilesUse(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "use NAME",
		Short: "Make NAME the current profile (saved as current_profile in the config file)",
		Args:  usageArgs(cobra.ExactArgs(1)),
		ValidArgsFunction: func(cmd *cobra.Command, args []string, prefix string) ([]string, cobra.ShellCompDirective) {
			if len(args) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			return profileNames(f)(cmd, args, prefix)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return profilesUseRun(&ProfilesOptions{f: f, Name: args[0]})
		},
	}
}

func profilesRun(ctx context.Context, opts *ProfilesOptions) error {
	f := opts.f
	file, current, paths, err := f.LoadConfig()
	if err != nil {
		return err
	}
	infos := make([]StatusInfo, 0, len(file.Profiles))
	for _, n := range file.Names() {
		info, err := f.profileState(ctx, file, n, paths)
		if err != nil {
			return err
		}
		info.Current = n == current
		infos = append(infos, info)
	}
	if f.Global.JSON() {
		return json.NewEncoder(f.IO.Out).Encode(infos)
	}
	if len(infos) == 0 {
		fmt.Fprintln(f.IO.ErrOut, "no saved profiles: pingedge login --issuer URL --client-id ID saves one")
		return nil
	}
	return renderProfiles(f, infos, f.Now())
}

func renderProfiles(f *Factory, infos []StatusInfo, now time.Time) error {
	tw := tabwriter.NewWriter(f.IO.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  NAME\tISSUER\tUSER\tSTORE\tTOKEN")
	for _, in := range infos {
		mark := " "
		if in.Current {
			mark = "*"
		}
		user := firstNonEmpty(in.Username, in.Subject, "-")
		fmt.Fprintf(tw, "%s %s\t%s\t%s\t%s\t%s\n", mark, ui.Sanitize(in.Profile), ui.Sanitize(firstNonEmpty(in.Issuer, "-")),
			ui.Sanitize(user), in.Store, tokenInWords(in, now))
	}
	return tw.Flush()
}

// tokenInWords is the one-column form of accessInWords.
func tokenInWords(in StatusInfo, now time.Time) string {
	switch in.State {
	case stateNotLoggedIn:
		return "not logged in"
	case stateOver:
		return "login needed"
	case stateValid:
		if in.AccessExpiry.IsZero() {
			return "valid"
		}
		return "valid for " + strings.ReplaceAll(inWords(in.AccessExpiry.Sub(now)), " ", "")
	}
	return "refreshes on next use"
}

// profilesUseRun saves current_profile. An unknown name is a usage error (exit 2) that lists the
// saved ones, so a typo never leaves every command pointing at an empty profile.
func profilesUseRun(opts *ProfilesOptions) error {
	f := opts.f
	paths, err := f.Paths()
	if err != nil {
		return err
	}
	file, _, _, err := f.LoadConfig()
	if err != nil {
		return err
	}
	if _, ok := file.Profiles[opts.Name]; !ok {
		hint := "pingedge login --profile " + opts.Name + " saves it"
		if names := file.Names(); len(names) > 0 {
			hint = "pingedge profiles use " + strings.Join(names, "|")
		}
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("no saved profile %q", opts.Name), Hint: hint}
	}
	file.CurrentProfile = opts.Name
	if err := file.Save(paths.ConfigFile); err != nil {
		return err
	}
	fmt.Fprintf(f.IO.ErrOut, "current profile: %s\n", ui.Sanitize(opts.Name))
	if env := f.Getenv("PINGEDGE_PROFILE"); env != "" && env != opts.Name {
		fmt.Fprintf(f.IO.ErrOut, "%s PINGEDGE_PROFILE=%s is set and wins over the current profile\n", f.ErrStyles().Warn.Render("note:"), ui.Sanitize(env))
	}
	return nil
}
