#!/usr/bin/env bash
# Where a cold start of the pingedge Worker's Go core goes, stage by stage (issue 11), timed in
# node: module compile, instantiate, go.run (the runtime, package inits, the engine built from
# the precompiled policy), the first refusal, and the first verified request (key fetch, JWKS
# parse, RS256 check). go-floor (bench/worker/gofloor: Go's runtime and one js.Func) is timed
# up to go.run beside it, in interleaved rounds. Prints medians and paired medians against
# go-floor. Knobs: N (10 rounds), CPU (1: process CPU time; 0: wall time), EXTRA ("name=dir
# ..." more bundles, built with --policy bench/worker/stages-policy.yaml).
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go run ./cmd/pingedge edge worker build --policy bench/worker/stages-policy.yaml --out "$work/pingedge" >/dev/null
mkdir "$work/go-floor"
GOOS=js GOARCH=wasm go build -trimpath -ldflags='-s -w' -o "$work/go-floor/pingedge.wasm" ./bench/worker/gofloor
cp "$work/pingedge/wasm_exec.js" "$work/pingedge/policy.mjs" "$work/go-floor/"
targets=("go-floor=$work/go-floor" "pingedge=$work/pingedge")
for x in ${EXTRA:-}; do targets+=("$x"); done
for _ in $(seq "${N:-10}"); do
  for t in "${targets[@]}"; do
    echo "${t%%=*} $(CPU="${CPU:-1}" node bench/worker/stages.mjs "${t#*=}")" >>"$work/runs"
  done
done
node bench/worker/stages.mjs summary "$work/runs"
