package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"

	"github.com/pingedge/pingedge/internal/tunnel"
	"github.com/pingedge/pingedge/internal/ui"
)

type bannerInfo struct {
	url    string
	routes []tunnel.Route
	issuer string // sanitised: the issuer's name and the user's come from the issuer
	user   string
	expiry time.Time
	opts   *TunnelOptions
	remote bool // listening beyond loopback (--allow-remote)
}

// bannerJSON is the banner with -o json (on stderr, like the text banner). It holds no secret.
type bannerJSON struct {
	Listening    string            `json:"listening"`
	Routes       map[string]string `json:"routes"`
	Issuer       string            `json:"issuer"`
	User         string            `json:"user"`
	TokenExpiry  time.Time         `json:"token_expiry,omitzero"`
	AllowOrigins []string          `json:"allow_origins"`
	Remote       bool              `json:"remote"`
}

// renderBanner tells the engineer where the tunnel listens, where each route goes, who the
// requests act as and until when the current token is valid.
func renderBanner(f *Factory, b bannerInfo) {
	w := f.IO.ErrOut
	if b.remote {
		warn(f, "listening on %s beyond loopback: anyone who can connect acts as %s", b.url, b.user)
	}
	for _, r := range b.routes {
		if r.Cleartext() {
			warn(f, "route %s sends your token in clear text to %s (--allow-cleartext-upstream): anyone on the network path can read and reuse it", r.Prefix, r.Target.Redacted())
		}
	}
	if f.Global.JSON() {
		routes := map[string]string{}
		for _, r := range b.routes {
			routes[r.Prefix] = r.Target.Redacted()
		}
		_ = json.NewEncoder(w).Encode(bannerJSON{Listening: b.url, Routes: routes, Issuer: b.issuer, User: b.user,
			TokenExpiry: b.expiry, AllowOrigins: nonNil(b.opts.AllowOrigins), Remote: b.remote})
		return
	}
	s := f.ErrStyles()
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s %s\n", s.Title.Render("pingedge tunnel"), s.Code.Render(b.url))
	s.KV(&sb, bannerRows(f, b))
	fmt.Fprintf(&sb, "%s", s.Dim.Render("Ctrl-C to stop"))
	fmt.Fprintln(w, s.Box.Render(sb.String()))
}

func bannerRows(f *Factory, b bannerInfo) [][2]string {
	var rows [][2]string
	for i, r := range b.routes {
		key := ""
		if i == 0 {
			key = "routes"
		}
		rows = append(rows, [2]string{key, fmt.Sprintf("%-12s → %s", r.Prefix, r.Target.Redacted())})
	}
	rows = append(rows, [2]string{"signed in", fmt.Sprintf("%s at %s", b.user, b.issuer)})
	if !b.expiry.IsZero() {
		left := b.expiry.Sub(f.Now()).Round(time.Second)
		rows = append(rows, [2]string{"token", fmt.Sprintf("valid until %s (%s), refreshed ahead of expiry",
			b.expiry.Local().Format("15:04:05"), left)})
	}
	origins := "none (browser pages of other sites are refused; add --allow-origin)"
	if len(b.opts.AllowOrigins) > 0 {
		origins = strings.Join(b.opts.AllowOrigins, ", ")
	}
	return append(rows, [2]string{"origins", origins})
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// warn writes a warning line on stderr; the tunnel goes on.
func warn(f *Factory, format string, args ...any) {
	fmt.Fprintf(f.IO.ErrOut, "%s %s\n", f.ErrStyles().Warn.Render("warning:"), fmt.Sprintf(format, args...))
}

// newAccessLog writes one line per request to stdout: text (coloured by status on a terminal) or
// JSON lines with -o json. Entries carry no token, query string or header value, and every field
// a request controls is escaped (tunnel.AppendEscaped). Lines are buffered and flushed every
// 100 ms and when the tunnel stops: call Close.
func newAccessLog(f *Factory) *tunnel.AccessLog {
	return tunnel.NewAccessLog(f.IO.Out, tunnel.AccessLogOptions{JSON: f.Global.JSON(), Colors: palette(f.OutStyles())})
}

// palette turns the house styles into the escape sequences the access log appends, so no styling
// library runs per request. Without colour every sequence is empty.
func palette(s *ui.Styles) tunnel.Palette {
	if !s.Color {
		return tunnel.Palette{}
	}
	on := func(st lipgloss.Style) string {
		pre, _, _ := strings.Cut(st.Render("x"), "x")
		return pre
	}
	return tunnel.Palette{Dim: on(s.Dim), OK: on(s.OK), Warn: on(s.Warn), Fail: on(s.Fail), Reset: "\x1b[0m"}
}
