#!/usr/bin/env bash
# Worker benchmark (issue 11): the pingedge Worker, a jose Worker (bench/worker/jose.mjs,
# panva/jose bundled by esbuild as wrangler would) and a pass-through Worker (the floor), side by
# side in one local workerd (worker/node_modules, pinned in worker/package.json), same origin,
# same token, same policy. Prints warm throughput (CONNS connections), p50/p99 latency on one
# connection, cold start (workerd spawned → first verified 200, also for a cold pingedge
# isolate answering from a disk-backed KV namespace another isolate filled) and the ratios.
# Knobs: ROUNDS (3), DURATION (5s), CONNS (16), COLD (3 per round), ALG (RS256), PIN (1: workerd
# on CPU 0, the driver, origin and issuer on the others), ARGS (more workerbench flags).
set -euo pipefail
cd "$(dirname "$0")/.."

[ -x worker/node_modules/.bin/workerd ] || (cd worker && npm ci --no-audit --no-fund --loglevel=error)
[ -x bench/worker/node_modules/.bin/esbuild ] || (cd bench/worker && npm ci --no-audit --no-fund --loglevel=error)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bench/worker/node_modules/.bin/esbuild bench/worker/jose.mjs --bundle --format=esm --platform=browser \
  --conditions=worker,browser --minify --log-level=warning --outfile="$work/jose.mjs"
go build -o "$work/workerbench" ./bench/workerbench

cpu=() load=()
if [ "${PIN:-1}" = 1 ] && [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
  cpu=(-cpu 0) load=(taskset -c "1-$(($(nproc) - 1))")
fi
"${load[@]}" "$work/workerbench" -jose "$work/jose.mjs" -rounds "${ROUNDS:-3}" -duration "${DURATION:-5s}" \
  -conns "${CONNS:-16}" -cold "${COLD:-3}" -alg "${ALG:-RS256}" "${cpu[@]}" ${ARGS:-}
