package cli

import (
	"encoding/json"
	"strings"
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
	// The state follows `pingedge token`'s rule (default --min-ttl 1m): 40s left is not "valid".
	for _, c := range []struct {
		exp     time.Time
		refresh bool
		state   string
		words   string
	}{
		{now.Add(-3 * time.Minute), true, stateRefresh, "expired 3m ago: the next pingedge token refreshes it"},
		{now.Add(40 * time.Second), true, stateRefresh, "expires in 40s: the next pingedge token refreshes it"},
		{now.Add(40 * time.Second), false, stateOver, "session over: log in again"},
		{now.Add(5 * time.Minute), false, stateValid, "valid for 5m (until "},
		{time.Time{}, false, stateValid, "valid (no expiry given by the issuer)"},
	} {
		in := StatusInfo{AccessExpiry: c.exp, RefreshToken: c.refresh}
		in.State = tokenState(false, c.exp, c.refresh, now)
		if got := accessInWords(in, now); in.State != c.state || !strings.HasPrefix(got, c.words) {
			t.Errorf("exp %s refresh %v: %s %q, want %s %q", c.exp, c.refresh, in.State, got, c.state, c.words)
		}
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
