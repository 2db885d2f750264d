package cli

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/pingedge/pingedge/internal/devop"
)

func TestExpiryInWords(t *testing.T) {
	now := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	for d, want := range map[time.Duration]string{
		45 * time.Second:                "45s",
		4*time.Minute + 59*time.Second:  "5m",
		59*time.Minute + 40*time.Second: "1h 0m",
		3*time.Hour + 5*time.Minute:     "3h 5m",
		50 * time.Hour:                  "2d 2h",
	} {
		if got := inWords(d); got != want {
			t.Errorf("inWords(%s) = %q, want %q", d, got, want)
		}
	}
	if got := accessInWords(now.Add(-3*time.Minute), now); got != "expired 3m ago (refreshed on next use)" {
		t.Errorf("expired: %q", got)
	}
	if got := accessInWords(time.Time{}, now); got != "no expiry given by the issuer" {
		t.Errorf("zero: %q", got)
	}
}

func TestLoginJSONOnStdout(t *testing.T) {
	e := newCLIEnv(t, devop.Config{})
	out, _ := e.mustRun(e.loginArgs("-o", "json")...)
	var res struct {
		Profile, Issuer, Subject, Flow, Store string
		Scopes                                []string
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, out)
	}
	if res.Subject != "alice" || res.Issuer != e.op.Issuer() || res.Flow != "pkce" || res.Store != "keychain" || len(res.Scopes) == 0 {
		t.Errorf("login -o json = %+v", res)
	}
}
