// Package compare benchmarks pingedge's verifier against the JOSE libraries Go services use
// (golang-jwt/v5, go-jose/v4, lestrrat-go/jwx/v3) on the same tokens and keys, in one run.
//
// It is a module of its own so those libraries stay out of pingedge's module graph and binary:
//
//	cd bench/compare && go test -run '^$' -bench . -benchmem
//
// The import path sits under github.com/pingedge/pingedge, which is what lets it reach the
// internal verifier packages (Go's internal rule compares import paths, not module roots).
package compare
