// Package worker holds the Cloudflare Worker's non-Go parts (the ES-module shim and the
// wrangler.toml template) and, in dist/, the wasm build that a released pingedge embeds so
// `pingedge edge worker build` needs no Go toolchain. dist/ is filled by
// `go run ./tools/genworker` (make build, goreleaser's before hook, go generate); the Go half
// of the Worker is ./wasm.
package worker

import "embed"

//go:generate go run ../tools/genworker

// Files are the shim, the wrangler template and whatever dist/ held at build time.
//
//go:embed shim.mjs wrangler.toml.tmpl dist
var Files embed.FS
