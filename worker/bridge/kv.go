package bridge

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/pingedge/pingedge/internal/verify/keyset"
)

// KV bounds: Workers KV refuses an expirationTtl under 60 s; a key set is never kept past a
// day, verify's own upper bound for a JWKS max-age.
const (
	kvMinTTL     = 60 * time.Second
	kvMaxTTL     = 24 * time.Hour
	kvDefaultTTL = 15 * time.Minute
)

// KVKeySetKey is the KV key for the document at url, the key set or the discovery document
// (hashed: KV keys are limited to 512 bytes).
func KVKeySetKey(url string) string {
	sum := sha256.Sum256([]byte(url))
	return "pingedge:fetch:" + hex.EncodeToString(sum[:16])
}

type kvKeySet struct {
	Expires int64  `json:"expires"` // unix seconds
	Body    string `json:"body"`
}

// KeySetToKV encodes a fetched key set for KV and returns the expirationTtl to store it with:
// the response's Cache-Control max-age (RFC 9111 §5.2.2.1), 15 minutes without one, within
// [60 s, 24 h].
func KeySetToKV(res *keyset.FetchResult, now time.Time) (string, time.Duration) {
	ttl := maxAge(res.Header)
	switch {
	case ttl <= 0:
		ttl = kvDefaultTTL
	case ttl < kvMinTTL:
		ttl = kvMinTTL
	case ttl > kvMaxTTL:
		ttl = kvMaxTTL
	}
	b, _ := json.Marshal(kvKeySet{Expires: now.Add(ttl).Unix(), Body: string(res.Body)})
	return string(b), ttl
}

// KeySetFromKV turns a KV value back into a fetch result whose max-age is the time left, so
// verify refreshes it when the copy in KV would have expired. ok is false for a value that
// does not decode or has expired (KV deletes lazily).
func KeySetFromKV(val string, now time.Time) (*keyset.FetchResult, bool) {
	var k kvKeySet
	if err := json.Unmarshal([]byte(val), &k); err != nil || k.Body == "" {
		return nil, false
	}
	left := time.Unix(k.Expires, 0).Sub(now)
	if left <= 0 {
		return nil, false
	}
	h := map[string][]string{"Cache-Control": {"max-age=" + strconv.Itoa(int(left/time.Second))}}
	return &keyset.FetchResult{Status: 200, Header: h, Body: []byte(k.Body)}, true
}

// maxAge reads max-age from the Cache-Control header of h (keyed canonically, as the fetcher
// stores it).
func maxAge(h map[string][]string) time.Duration {
	for _, d := range strings.Split(first(h["Cache-Control"]), ",") {
		name, val, _ := strings.Cut(strings.TrimSpace(d), "=")
		if strings.EqualFold(name, "no-store") || strings.EqualFold(name, "no-cache") {
			return 0
		}
		if strings.EqualFold(name, "max-age") {
			if n, err := strconv.Atoi(strings.Trim(val, `"`)); err == nil && n >= 0 {
				return time.Duration(n) * time.Second
			}
		}
	}
	return 0
}
