package bridge

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

type mapKV struct {
	vals map[string]string
	ttls map[string]int
	err  error
}

func (m *mapKV) Get(_ context.Context, key string) (string, bool, error) {
	if m.err != nil {
		return "", false, m.err
	}
	v, ok := m.vals[key]
	return v, ok, nil
}

func (m *mapKV) Put(_ context.Context, key, value string, ttl int) error {
	if m.err != nil {
		return m.err
	}
	m.vals[key], m.ttls[key] = value, ttl
	return nil
}

// TestResultStoreKV: results go under their own prefix with an expirationTtl in whole
// seconds rounded down (never past exp), nothing under KV's 60 s minimum, and a failing KV
// is a miss that is logged without the value.
func TestResultStoreKV(t *testing.T) {
	kv := &mapKV{vals: map[string]string{}, ttls: map[string]int{}}
	var logs []string
	s := ResultStore{KV: kv, Log: func(m string) { logs = append(logs, m) }}
	ctx := context.Background()
	s.Put(ctx, "abc", []byte(`{"exp":1}`), 90*time.Second+999*time.Millisecond)
	s.Put(ctx, "short", []byte(`{"exp":1}`), 59999*time.Millisecond)
	if kv.ttls["pingedge:result:abc"] != 90 || kv.vals["pingedge:result:abc"] != `{"exp":1}` || len(kv.vals) != 1 {
		t.Fatalf("KV holds %v with ttls %v", kv.vals, kv.ttls)
	}
	if v, ok := s.Get(ctx, "abc"); !ok || string(v) != `{"exp":1}` {
		t.Fatalf("Get = %q, %v", v, ok)
	}
	if _, ok := s.Get(ctx, "short"); ok {
		t.Fatal("a result under 60 s came back")
	}
	kv.err = errors.New("kv unavailable")
	if _, ok := s.Get(ctx, "abc"); ok {
		t.Fatal("a failing KV answered")
	}
	s.Put(ctx, "abc", []byte(`{"exp":2}`), time.Hour)
	if len(logs) != 2 || strings.Contains(strings.Join(logs, " "), "exp") {
		t.Fatalf("logs %q, want two failures without the value", logs)
	}
}
