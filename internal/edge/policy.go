package edge

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pingedge/pingedge/internal/verify"
	"github.com/pingedge/pingedge/internal/verify/jose"
	"github.com/pingedge/pingedge/internal/verify/keyset"
	"github.com/pingedge/pingedge/internal/verify/policy"
	"github.com/pingedge/pingedge/internal/verify/policyfile"
)

// loaded is one good policy with the engine built from it.
type loaded struct {
	engine *verify.Engine
	hash   [32]byte
}

// fileStamp is what the poller compares to notice an edit without reading the file.
type fileStamp struct {
	mod  time.Time
	size int64
}

// policyHolder keeps the current engine. Requests read it lock-free; reloads swap it whole, so
// a request sees one policy from start to end.
type policyHolder struct {
	cur     atomic.Pointer[loaded]
	mu      sync.Mutex // serialises reloads
	seen    fileStamp  // the file as last read, good or bad
	pending fileStamp  // a change seen by the last poll, loaded once it holds still
	lastErr string     // the last reload error, so a broken file is reported once
}

func (h *policyHolder) engine() *verify.Engine { return h.cur.Load().engine }

// loadPolicy reads, parses and builds; nothing is swapped.
func (s *Server) loadPolicy(prev *loaded) (*loaded, fileStamp, [32]byte, error) {
	path := s.opts.PolicyFile
	st, err := os.Stat(path)
	if err != nil {
		return nil, fileStamp{}, [32]byte{}, fmt.Errorf("read policy: %w", err)
	}
	stamp := fileStamp{st.ModTime(), st.Size()}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, stamp, [32]byte{}, fmt.Errorf("read policy: %w", err)
	}
	hash := sha256.Sum256(data)
	p, err := policyfile.Parse(data)
	if err != nil {
		return nil, stamp, hash, fmt.Errorf("%s: %w", path, err)
	}
	eng, err := verify.NewEngine(p, verify.EngineOptions{
		KeySet: s.keySetFor(p, prev), Now: s.opts.Now, Logger: s.log, Metrics: s.metrics,
	})
	if err != nil {
		return nil, stamp, hash, fmt.Errorf("%s: %w", path, err)
	}
	return &loaded{engine: eng, hash: hash}, stamp, hash, nil
}

// keySetFor keeps the previous key set when the issuer and JWKS URL did not change, so a
// policy edit does not refetch keys nor lose the ones held during an issuer outage.
func (s *Server) keySetFor(p *policy.Policy, prev *loaded) jose.KeySet {
	if s.opts.KeySet != nil {
		return s.opts.KeySet
	}
	if prev != nil {
		old := prev.engine.Policy()
		if old.Issuer == p.Issuer && old.JWKSURI == p.JWKSURI {
			return prev.engine.KeySet()
		}
	}
	return keyset.NewRemoteKeySet(p.JWKSURI, keyset.RemoteOptions{
		Issuer: p.Issuer, Fetcher: s.opts.Fetcher, Now: s.opts.Now, Logger: s.log, Metrics: s.metrics,
	})
}

// initPolicy loads the policy at start; an error here is a configuration error.
func (s *Server) initPolicy() error {
	l, stamp, _, err := s.loadPolicy(nil)
	if err != nil {
		return err
	}
	s.policy.cur.Store(l)
	s.policy.seen = stamp
	return nil
}

// reload re-reads the policy file. With force (SIGHUP) it rebuilds even when the content is
// unchanged, which also empties the validation cache; otherwise it acts only on a changed file.
// A file that does not load leaves the last good policy in place and is logged once.
func (s *Server) reload(ctx context.Context, why string, force bool) {
	h := &s.policy
	h.mu.Lock()
	defer h.mu.Unlock()
	if !force && !h.settled(s.opts.PolicyFile) {
		return
	}
	prev := h.cur.Load()
	l, stamp, hash, err := s.loadPolicy(prev)
	h.seen = stamp
	if err != nil {
		if force || err.Error() != h.lastErr {
			s.prom.reloads.WithLabelValues("error").Inc()
			s.log.Error("policy reload failed; keeping the last good policy", "trigger", why, "err", err)
		}
		h.lastErr = err.Error()
		return
	}
	h.lastErr = ""
	if !force && hash == prev.hash {
		return
	}
	h.cur.Store(l)
	s.prom.reloads.WithLabelValues("ok").Inc()
	s.log.Info("policy reloaded", "trigger", why, "rules", len(l.engine.Policy().Rules))
	if l.engine.KeySet() != prev.engine.KeySet() {
		go s.warmKeys(ctx, l.engine.KeySet())
	}
}

// settled reports whether the file changed since it was last read and has then kept the same
// size and mtime for one poll interval: an editor or `cat > policy.yaml` caught half-way
// through writing would otherwise be loaded, refused and logged as a broken policy. A file
// that cannot be stat'ed counts as settled, so its absence is reported.
func (h *policyHolder) settled(path string) bool {
	st, err := os.Stat(path)
	if err != nil {
		return true
	}
	now := fileStamp{st.ModTime(), st.Size()}
	if now == h.seen {
		return false
	}
	if now != h.pending {
		h.pending = now
		return false
	}
	return true
}

// watch polls the policy file and listens for SIGHUP until ctx ends.
func (s *Server) watch(ctx context.Context) {
	var tick <-chan time.Time
	if s.opts.ReloadInterval > 0 {
		t := time.NewTicker(s.opts.ReloadInterval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
			s.reload(ctx, "file change", false)
		case <-s.opts.Reload:
			s.reload(ctx, "SIGHUP", true)
		}
	}
}

// refresher is the part of keyset.RemoteKeySet warmKeys needs.
type refresher interface {
	Refresh(ctx context.Context) error
}

// warmKeys loads the keys before the first token arrives, so /readyz turns ready without
// traffic and the first request does not pay for the fetch. It retries until it succeeds or
// ctx ends; after that the key set refreshes itself.
func (s *Server) warmKeys(ctx context.Context, ks jose.KeySet) {
	r, ok := ks.(refresher)
	if !ok {
		return
	}
	for !ks.Ready() {
		err := r.Refresh(ctx)
		if err == nil {
			s.log.Info("signing keys loaded")
			return
		}
		s.log.Warn("cannot load signing keys yet; /readyz stays 503", "err", err, "retry_in", s.opts.KeyRetry)
		select {
		case <-ctx.Done():
			return
		case <-time.After(s.opts.KeyRetry):
		}
	}
}
