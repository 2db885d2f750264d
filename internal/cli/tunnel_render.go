package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/pingedge/pingedge/internal/tunnel"
	"github.com/pingedge/pingedge/internal/ui"
)

type bannerInfo struct {
	url    string
	routes []tunnel.Route
	issuer string
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

// accessLog writes one line per request to stdout: text (coloured by status on a terminal) or
// JSON lines with -o json. Entries carry no token, query string or header value.
type accessLog struct {
	mu    sync.Mutex
	w     io.Writer
	json  bool
	style *ui.Styles
}

func newAccessLog(f *Factory) *accessLog {
	return &accessLog{w: f.IO.Out, json: f.Global.JSON(), style: f.OutStyles()}
}

type accessJSON struct {
	Time      time.Time `json:"time"`
	Method    string    `json:"method"`
	Path      string    `json:"path"`
	Status    int       `json:"status"`
	Bytes     int64     `json:"bytes"`
	LatencyMS float64   `json:"latency_ms"`
	Route     string    `json:"route"`
	Upstream  string    `json:"upstream,omitempty"`
	Refused   string    `json:"refused,omitempty"`
}

func (l *accessLog) write(e tunnel.Entry) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.json {
		_ = json.NewEncoder(l.w).Encode(accessJSON{Time: e.Time.UTC(), Method: e.Method, Path: e.Path, Status: e.Status,
			Bytes: e.Bytes, LatencyMS: float64(e.Latency.Microseconds()) / 1000, Route: e.Route, Upstream: e.Upstream, Refused: e.Refused})
		return
	}
	dest := e.Route
	if e.Upstream != "" {
		dest += " → " + e.Upstream
	}
	if e.Refused != "" && e.Refused != "token" {
		dest = "refused: " + e.Refused
	}
	fmt.Fprintf(l.w, "%s %-6s %s %s %s %s\n", l.style.Dim.Render(e.Time.Format("15:04:05")), e.Method, e.Path,
		l.statusStyle(e.Status), l.style.Dim.Render(e.Latency.Round(time.Microsecond*100).String()), l.style.Dim.Render(dest))
}

func (l *accessLog) statusStyle(code int) string {
	s := fmt.Sprint(code)
	switch {
	case code >= 500:
		return l.style.Fail.Render(s)
	case code >= 400:
		return l.style.Warn.Render(s)
	case code >= 200 && code < 300:
		return l.style.OK.Render(s)
	}
	return s
}
