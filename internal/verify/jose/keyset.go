package jose

import (
	"context"
	"fmt"
)

// KeySet gives the key that verifies a token. Implementations must be safe for concurrent use.
type KeySet interface {
	// Key returns the key named kid that can verify alg. kid may be empty: the set then returns
	// its only key able to verify alg, or an error when there are several. It returns an error
	// wrapping ErrUnknownKey, ErrKeyMismatch or ErrKeysUnavailable when it has none.
	Key(ctx context.Context, kid string, alg Algorithm) (*Key, error)
	// Ready reports whether the set holds keys (a remote set after its first good fetch).
	Ready() bool
}

// StaticKeySet is a fixed set of keys, from a file or a test.
type StaticKeySet struct{ keys []*Key }

// NewStaticKeySet parses a JWKS document (RFC 7517 §5).
func NewStaticKeySet(jwks []byte) (*StaticKeySet, error) {
	keys, err := ParseJWKS(jwks)
	if err != nil {
		return nil, err
	}
	return &StaticKeySet{keys: keys}, nil
}

// NewStaticKeys wraps keys already parsed.
func NewStaticKeys(keys ...*Key) *StaticKeySet { return &StaticKeySet{keys: keys} }

// Key implements KeySet.
func (s *StaticKeySet) Key(_ context.Context, kid string, alg Algorithm) (*Key, error) {
	return PickKey(s.keys, kid, alg)
}

// Ready implements KeySet.
func (s *StaticKeySet) Ready() bool { return len(s.keys) > 0 }

// Keys returns the keys (for inspect and tests).
func (s *StaticKeySet) Keys() []*Key { return s.keys }

// PickKey finds kid in keys; with no kid it takes the single key that fits alg, so a token
// without kid cannot make the verifier try every key in turn.
func PickKey(keys []*Key, kid string, alg Algorithm) (*Key, error) {
	if kid != "" {
		for _, k := range keys {
			if k.ID == kid {
				return k, nil
			}
		}
		return nil, errorf(ErrUnknownKey, "no key with kid %s", QuoteShort(kid))
	}
	spec, _ := specOf(alg)
	var found *Key
	for _, k := range keys {
		if k.fits(alg, spec) != nil {
			continue
		}
		if found != nil {
			return nil, errorf(ErrUnknownKey, "token has no kid and %d keys could verify %s", countFits(keys, alg), alg)
		}
		found = k
	}
	if found == nil {
		return nil, errorf(ErrUnknownKey, "token has no kid and no key verifies %s", alg)
	}
	return found, nil
}

func countFits(keys []*Key, alg Algorithm) int {
	spec, _ := specOf(alg)
	n := 0
	for _, k := range keys {
		if k.fits(alg, spec) == nil {
			n++
		}
	}
	return n
}

// DescribeKey is a one-line, secret-free description for logs.
func DescribeKey(k *Key) string { return fmt.Sprintf("%s kid=%s", k.Type, QuoteShort(k.ID)) }
