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
	"github.com/pingedge/pingedge/internal/login"
	"github.com/pingedge/pingedge/internal/ui"
)

// StatusOptions are the inputs of `pingedge status`.
type StatusOptions struct {
	f   *Factory
	ctx context.Context
}

// StatusInfo is what `pingedge status -o json` prints. It holds no secret.
type StatusInfo struct {
	Profile      string    `json:"profile"`
	Issuer       string    `json:"issuer"`
	Subject      string    `json:"subject"`
	Username     string    `json:"username,omitempty"`
	Scopes       []string  `json:"scopes"`
	AccessExpiry time.Time `json:"access_token_expiry,omitzero"`
	LoggedInAt   time.Time `json:"logged_in_at"`
	Store        string    `json:"store"`
	StoreDetail  string    `json:"store_detail"`
	RefreshToken bool      `json:"refresh_token_stored"`
}

// NewCmdStatus builds `pingedge status` (alias whoami).
func NewCmdStatus(f *Factory, runF func(*StatusOptions) error) *cobra.Command {
	opts := &StatusOptions{f: f}
	return &cobra.Command{
		Use:     "status",
		Aliases: []string{"whoami"},
		Short:   "Show who is logged in, where, until when, and where the credentials are kept",
		Long: `Show the active profile's session without contacting the issuer: the user, issuer, scopes,
how long the cached access token stays valid, and where the refresh token is stored.
Exits 4 when the profile is not logged in.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.ctx = cmd.Context()
			if runF != nil {
				return runF(opts)
			}
			return statusRun(opts)
		},
	}
}

func statusRun(opts *StatusOptions) error {
	f := opts.f
	file, name, paths, err := f.LoadConfig()
	if err != nil {
		return err
	}
	prof, _ := file.Effective(name, f.Getenv)
	sess, err := login.LoadSession(paths.StateDir, name)
	if err != nil {
		return err
	}
	store, err := f.credStore(prof.Store, paths)
	if err != nil {
		return err
	}
	_, err = store.Get(opts.ctx, name)
	if err != nil && !errors.Is(err, credstore.ErrNotFound) {
		return fmt.Errorf("status of profile %s: %w", name, err)
	}
	info := StatusInfo{
		Profile: name, Issuer: sess.Issuer, Subject: sess.Subject, Username: sess.Username,
		Scopes: sess.Scopes, AccessExpiry: sess.Access.Expiry, LoggedInAt: sess.LoggedInAt,
		Store: store.Kind(), StoreDetail: store.Describe(), RefreshToken: err == nil,
	}
	if f.Global.JSON() {
		return json.NewEncoder(f.IO.Out).Encode(info)
	}
	renderStatus(f, info, f.Now())
	return nil
}

func renderStatus(f *Factory, in StatusInfo, now time.Time) {
	s := f.OutStyles()
	user := in.Username
	if user == "" {
		user = in.Subject
	}
	refresh := "stored in " + ui.Sanitize(in.StoreDetail)
	if !in.RefreshToken {
		refresh = s.Warn.Render("missing") + " (log in again when the access token expires)"
	}
	s.KV(f.IO.Out, [][2]string{
		{"profile", in.Profile},
		{"user", ui.Sanitize(user)},
		{"subject", ui.Sanitize(in.Subject)},
		{"issuer", ui.Sanitize(in.Issuer)},
		{"scopes", strings.Join(ui.SanitizeAll(in.Scopes), " ")},
		{"access token", accessInWords(in.AccessExpiry, now)},
		{"refresh token", refresh},
		{"logged in", in.LoggedInAt.Local().Format("2006-01-02 15:04") + " (" + inWords(now.Sub(in.LoggedInAt)) + " ago)"},
	})
	if in.Store == credstore.KindFile {
		fmt.Fprintf(f.IO.ErrOut, "%s the refresh token is kept in a plain-text file (--store file)\n", f.ErrStyles().Warn.Render("note:"))
	}
}

func accessInWords(exp, now time.Time) string {
	switch {
	case exp.IsZero():
		return "no expiry given by the issuer"
	case exp.After(now):
		return "valid for " + inWords(exp.Sub(now)) + " (until " + exp.Local().Format("15:04:05") + ")"
	}
	return "expired " + inWords(now.Sub(exp)) + " ago (refreshed on next use)"
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
