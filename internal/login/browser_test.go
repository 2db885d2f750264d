package login

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestCanOpenBrowser(t *testing.T) {
	tests := []struct {
		goos string
		env  map[string]string
		want bool
	}{
		{"linux", nil, false}, // SSH session or container: device flow
		{"linux", map[string]string{"DISPLAY": ":0"}, true},
		{"linux", map[string]string{"WAYLAND_DISPLAY": "wayland-0"}, true},
		{"linux", map[string]string{"BROWSER": "w3m"}, true},
		{"darwin", nil, true},
		{"darwin", map[string]string{"SSH_CONNECTION": "10.0.0.1 22 10.0.0.2 5555"}, false},
		{"windows", nil, true},
		{"freebsd", nil, false},
	}
	for _, tt := range tests {
		if got := CanOpenBrowser(tt.goos, func(k string) string { return tt.env[k] }); got != tt.want {
			t.Errorf("%s %v = %v, want %v", tt.goos, tt.env, got, tt.want)
		}
	}
}

// TestBrowserEnvVariable runs a real $BROWSER program: the URL reaches it as one argument (or in
// place of %s), and what it prints goes to stderr, never stdout.
func TestBrowserEnvVariable(t *testing.T) {
	dir := t.TempDir()
	got := filepath.Join(dir, "url")
	script := filepath.Join(dir, "fake-browser")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho opening\nprintf %s \"$2\" > "+got+"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	stderr := &lockedBuf{}
	b := SystemBrowser{Getenv: func(k string) string {
		if k == "BROWSER" {
			return "/nonexistent/browser:" + script + " --new-tab %s"
		}
		return ""
	}, Stderr: stderr}
	const u = "http://127.0.0.1:1/authorize?a=1&b=2"
	if err := b.Open(t.Context(), u); err != nil {
		t.Fatalf("Open: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if b, _ := os.ReadFile(got); string(b) == u && strings.Contains(stderr.String(), "opening") {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	b2, _ := os.ReadFile(got)
	t.Fatalf("browser got %q, stderr %q", b2, stderr.String())
}

type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuf) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }
