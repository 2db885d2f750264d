// Package ui is the one place where pingedge's colours and terminal detection live.
//
// Styles are built from one lipgloss renderer per output stream, so colour decisions follow the
// stream they are written to: plain text when the stream is not a terminal, when NO_COLOR is set
// (https://no-color.org) or when --no-color is given.
package ui

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/mattn/go-isatty"
	"github.com/muesli/termenv"
)

// Styles are the named styles pingedge renders with. The zero value is not usable; use New.
type Styles struct {
	Color bool // whether the stream gets colour at all

	Title lipgloss.Style
	Key   lipgloss.Style
	Value lipgloss.Style
	OK    lipgloss.Style
	Fail  lipgloss.Style
	Warn  lipgloss.Style
	Dim   lipgloss.Style
	Code  lipgloss.Style
	Box   lipgloss.Style
}

// IsTerminal reports whether w is a terminal (a *os.File attached to a TTY).
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	return isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())
}

// ColorEnabled decides colour for a stream: a terminal, no NO_COLOR (any value, per no-color.org),
// TERM not "dumb", and no --no-color.
func ColorEnabled(w io.Writer, getenv func(string) string, noColor bool) bool {
	if noColor || getenv("NO_COLOR") != "" || getenv("TERM") == "dumb" {
		return false
	}
	return IsTerminal(w)
}

// New returns the styles for stream w.
func New(w io.Writer, color bool) *Styles {
	r := lipgloss.NewRenderer(w)
	if color {
		r.SetColorProfile(termenv.ANSI256)
	} else {
		r.SetColorProfile(termenv.Ascii)
	}
	s := &Styles{Color: color}
	s.Title = r.NewStyle().Bold(true)
	s.Key = r.NewStyle().Foreground(lipgloss.Color("245"))
	s.Value = r.NewStyle()
	s.OK = r.NewStyle().Foreground(lipgloss.Color("2")).Bold(true)
	s.Fail = r.NewStyle().Foreground(lipgloss.Color("1")).Bold(true)
	s.Warn = r.NewStyle().Foreground(lipgloss.Color("3")).Bold(true)
	s.Dim = r.NewStyle().Foreground(lipgloss.Color("242"))
	s.Code = r.NewStyle().Foreground(lipgloss.Color("6")).Bold(true)
	s.Box = r.NewStyle().Border(lipgloss.RoundedBorder()).Padding(0, 1)
	if !color {
		s.Box = r.NewStyle()
	}
	return s
}

// Mark returns the pass/fail glyph used in check lists.
func (s *Styles) Mark(ok bool) string {
	if ok {
		return s.OK.Render("✓")
	}
	return s.Fail.Render("✗")
}

// Problem is a user-facing error: what failed, why, and what to do next.
type Problem struct {
	What string
	Why  string
	Hint string
}

// RenderError writes a problem once, as "error: what" + reason + hint, to w.
func (s *Styles) RenderError(w io.Writer, p Problem) {
	fmt.Fprintf(w, "%s %s\n", s.Fail.Render("error:"), p.What)
	if p.Why != "" && p.Why != p.What {
		fmt.Fprintf(w, "  %s %s\n", s.Key.Render("why:"), p.Why)
	}
	if p.Hint != "" {
		fmt.Fprintf(w, "  %s %s\n", s.Key.Render("try:"), p.Hint)
	}
}

// KV renders aligned "key  value" lines.
func (s *Styles) KV(w io.Writer, rows [][2]string) {
	width := 0
	for _, r := range rows {
		width = max(width, len(r[0]))
	}
	for _, r := range rows {
		pad := strings.Repeat(" ", width-len(r[0]))
		fmt.Fprintf(w, "%s%s  %s\n", s.Key.Render(r[0]), pad, r[1])
	}
}
