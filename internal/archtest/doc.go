// Package archtest holds the repository's import rules as a test (docs/architecture.md,
// "Import rules"). It has no code of its own: `go test ./internal/archtest` is the check, and
// `make test` runs it with everything else.
package archtest
