package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/pingedge/pingedge/internal/credstore"
	"github.com/pingedge/pingedge/internal/ui"
)

// StatusOptions are the inputs of `pingedge status`.
type StatusOptions struct {
	f   *Factory
	All bool // every saved profile, like `gh auth status`
}

// NewCmdStatus builds `pingedge status` (alias whoami).
func NewCmdStatus(f *Factory, runF func(context.Context, *StatusOptions) error) *cobra.Command {
	opts := &StatusOptions{f: f}
	cmd := &cobra.Command{
		Use:     "status",
		Aliases: []string{"whoami"},
		Short:   "Show who is logged in, where, until when, and where the credentials are kept",
		Long: `Show the active profile's session without contacting the issuer: the user, issuer, scopes,
how long the cached access token stays valid, and where the refresh token is stored. The token
state uses the rule "pingedge token" uses: a cached token is "valid" only while it stays valid
for token's default --min-ttl (1m); otherwise the next "pingedge token" refreshes it.

--all shows every saved profile. Exits 4 when the profile (with --all: any profile) must log in
again.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return statusRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.All, "all", false, "show every saved profile")
	return cmd
}

func statusRun(ctx context.Context, opts *StatusOptions) error {
	f := opts.f
	file, name, paths, err := f.LoadConfig()
	if err != nil {
		return err
	}
	names := []string{name}
	if opts.All {
		if names = file.Names(); len(names) == 0 {
			return &ExitError{Code: ExitLoginRequired, Err: errors.New("no saved profiles"), Hint: "pingedge login --issuer URL --client-id ID"}
		}
	}
	infos := make([]StatusInfo, 0, len(names))
	for _, n := range names {
		info, err := f.profileState(ctx, file, n, paths)
		if err != nil {
			return err
		}
		info.Current = n == name
		infos = append(infos, info)
	}
	if !opts.All && infos[0].State == stateNotLoggedIn {
		return notLoggedInError(name)
	}
	if err := renderStatuses(f, infos, opts.All); err != nil {
		return err
	}
	return statusExit(infos)
}

// statusExit is exit 4 when a shown profile cannot hand out a token without a new login, so
// status and token agree (issue 12 item 8).
func statusExit(infos []StatusInfo) error {
	for _, in := range infos {
		if in.State == stateNotLoggedIn || in.State == stateOver {
			return &ExitError{Code: ExitLoginRequired, Silent: true, Err: fmt.Errorf("profile %s must log in again", in.Profile)}
		}
	}
	return nil
}

func renderStatuses(f *Factory, infos []StatusInfo, all bool) error {
	if f.Global.JSON() {
		if all {
			return json.NewEncoder(f.IO.Out).Encode(infos)
		}
		return json.NewEncoder(f.IO.Out).Encode(infos[0])
	}
	now := f.Now()
	for i, in := range infos {
		if i > 0 {
			fmt.Fprintln(f.IO.Out)
		}
		renderStatus(f, in, now)
	}
	return nil
}

func renderStatus(f *Factory, in StatusInfo, now time.Time) {
	s := f.OutStyles()
	profile := in.Profile
	if in.Current {
		profile += " (current)"
	}
	if in.State == stateNotLoggedIn {
		s.KV(f.IO.Out, [][2]string{{"profile", profile}, {"issuer", ui.Sanitize(in.Issuer)}, {"session", s.Warn.Render("not logged in")}})
		return
	}
	user := in.Username
	if user == "" {
		user = in.Subject
	}
	refresh := "stored in " + ui.Sanitize(in.StoreDetail)
	if !in.RefreshToken {
		refresh = s.Warn.Render("missing") + " (log in again when the access token expires)"
	}
	s.KV(f.IO.Out, [][2]string{
		{"profile", profile},
		{"user", ui.Sanitize(user)},
		{"subject", ui.Sanitize(in.Subject)},
		{"issuer", ui.Sanitize(in.Issuer)},
		{"scopes", strings.Join(ui.SanitizeAll(in.Scopes), " ")},
		{"access token", accessInWords(in, now)},
		{"refresh token", refresh},
		{"logged in", in.LoggedInAt.Local().Format("2006-01-02 15:04") + " (" + inWords(now.Sub(in.LoggedInAt)) + " ago)"},
	})
	if in.Store == credstore.KindFile {
		fmt.Fprintf(f.IO.ErrOut, "%s profile %s keeps its refresh token in a plain-text file (store: file)\n", f.ErrStyles().Warn.Render("note:"), in.Profile)
	}
	for _, e := range in.Unchecked {
		fmt.Fprintf(f.IO.ErrOut, "%s profile %s: the session file names endpoint %s, not on its issuer's origin; it is used only if the issuer's discovery document names it (if you did not log in to this issuer, run pingedge logout --profile %s)\n",
			f.ErrStyles().Warn.Render("warning:"), in.Profile, ui.Sanitize(e), in.Profile)
	}
}

// accessInWords describes the token in the terms `pingedge token` acts on.
func accessInWords(in StatusInfo, now time.Time) string {
	exp := in.AccessExpiry
	switch in.State {
	case stateValid:
		if exp.IsZero() {
			return "valid (no expiry given by the issuer)"
		}
		return "valid for " + inWords(exp.Sub(now)) + " (until " + exp.Local().Format("15:04:05") + ")"
	case stateOver:
		return "session over: log in again"
	}
	switch {
	case exp.IsZero():
		return "none cached: the next pingedge token refreshes it"
	case exp.After(now):
		return "expires in " + inWords(exp.Sub(now)) + ": the next pingedge token refreshes it"
	}
	return "expired " + inWords(now.Sub(exp)) + " ago: the next pingedge token refreshes it"
}

// inWords renders a duration the way people say it: "45s", "12m", "3h 5m", "2d 4h".
func inWords(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%ds", int(d.Round(time.Second).Seconds()))
	}
	d = d.Round(time.Minute) // 4m59s reads as 5m
	switch {
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh %dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd %dh", int(d.Hours())/24, int(d.Hours())%24)
}
