#!/usr/bin/env bash
# Load benchmark of `pingedge tunnel` as an engineer runs it (issue 11): the built binary as its
# own process, logged in with `pingedge login` against a local OpenID provider, its access log on
# and stdout/stderr redirected to a file, against a bare proxy process (httputil.ReverseProxy
# adding a fixed Authorization header), same upstream process, same wrk settings, interleaved
# rounds. Prints requests/s per round and the per-round ratio tunnel / bare (goal >= 0.95x).
# Installs wrk (Debian package) when missing. Not part of `make test`.
# Knobs: DURATION (10s), CONNS (32), THREADS (1), ROUNDS (5), BASE_PORT (19300), OUTPUT (text or
# json: the access-log format), PIN (1: proxy under test on CPU 0, the rest elsewhere),
# PPROF (1: build with -tags pprof and save a 10 s CPU profile of the tunnel to $PPROF_OUT,
# default /tmp/tunnel.pprof; with DPOP=1 also of the DPoP tunnel, to $PPROF_OUT with -dpop before
# .pprof), PERF (1: `perf record` each proxy for 10 s under load into
# /tmp/perf.NAME.data, wrk's output beside it),
# PINGEDGE (a prebuilt binary to measure instead of building ./cmd/pingedge), BEFORE (a second,
# older pingedge binary measured in the same interleaved rounds, for before/after figures),
# COUNT (1: instead of the throughput rounds — unless ROUNDS is also set — count what each proxy
# process does per request: system calls, context switches, CPU time, GC cycles, instructions;
# figures that load from other programs does not move. Details in bench/tunnel_count.sh. Its knobs:
# COUNT_DURATION (5s) per window, COUNT_ROUNDS (3) interleaved rounds, COUNT_CALLGRIND (1 when
# perf has no instruction counters: user-space instructions under valgrind's callgrind)),
# KEEP (a directory: keep the run's logs, profiles and counts there instead of deleting them),
# DPOP (1: also log in a second profile with `login --dpop` and measure `pingedge tunnel` with
# DPoP, a proof signed per request, in the same rounds (and COUNT windows); prints dpop / tunnel,
# the issue 14 figure, goal >= 0.9x), UPSTREAM_DELAY (e.g. 2ms or 20ms: the upstream answers that
# much later, like a remote API, so the figure is for a tunnel that waits on the network rather
# than on its CPU).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
CONNS=${CONNS:-32}
THREADS=${THREADS:-1}
COUNT=${COUNT:-0}
if [ "$COUNT" = 1 ] && [ -z "${ROUNDS:-}" ]; then ROUNDS=0; fi
ROUNDS=${ROUNDS:-5}
COUNT_DURATION=${COUNT_DURATION:-5s}
COUNT_ROUNDS=${COUNT_ROUNDS:-3}
BASE_PORT=${BASE_PORT:-19300}
OUTPUT=${OUTPUT:-text}

if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi
  echo "bench: installing wrk" >&2
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq wrk >/dev/null
fi

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -n "${KEEP:-}" ] && mkdir -p "$KEEP" && cp -r "$work"/. "$KEEP"/
  rm -rf "$work"
}
trap cleanup EXIT

if [ "$COUNT" = 1 ]; then
  source bench/tunnel_count.sh
  if [ -z "${COUNT_CALLGRIND:-}" ]; then
    COUNT_CALLGRIND=0
    command -v perf >/dev/null && hw_counters || COUNT_CALLGRIND=1
  fi
  count_tools
fi
penv=() # the proxies' environment: with COUNT, gctrace lines in their logs count GC cycles
[ "$COUNT" = 1 ] && penv=(env GODEBUG=gctrace=1)

proxy_cpu=() load_cpu=()
if [ "${PIN:-1}" = 1 ] && [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
  proxy_cpu=(taskset -c 0) load_cpu=(taskset -c "1-$(($(nproc) - 1))")
fi

tags=()
[ "${PPROF:-0}" = 1 ] && tags=(-tags pprof)
if [ -n "${PINGEDGE:-}" ]; then cp "$PINGEDGE" "$work/pingedge"; else go build "${tags[@]}" -o "$work/pingedge" ./cmd/pingedge; fi
go build -o "$work/tunnelbench" ./bench/tunnelbench

upstream_port=$((BASE_PORT + 1)) bare_port=$((BASE_PORT + 2)) tunnel_port=$((BASE_PORT + 3))
issuer_port=$((BASE_PORT + 4)) pprof_port=$((BASE_PORT + 5)) before_port=$((BASE_PORT + 6))
dpop_port=$((BASE_PORT + 11)) dpop_pprof_port=$((BASE_PORT + 12)) # + 7 to 10: COUNT's callgrind copies
upstream="http://127.0.0.1:$upstream_port"

# A port already taken by another program must not pass for ours: refuse to start on one.
for p in $(seq $((BASE_PORT + 1)) $((BASE_PORT + 12))); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "bench: port $p is in use; set BASE_PORT" >&2; exit 1; fi
done
wait_port() { # wait_port PORT NAME
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done
  echo "bench: $2 did not start; its log:" >&2; cat "$work/$2.log" >&2 || true; exit 1
}

"${load_cpu[@]}" "$work/tunnelbench" issuer "127.0.0.1:$issuer_port" "$work/token" >"$work/issuer.out" 2>"$work/issuer.log" &
pids+=($!)
wait_port "$issuer_port" issuer
for _ in $(seq 50); do [ -s "$work/issuer.out" ] && break; sleep 0.1; done
read -r issuer client_id <"$work/issuer.out"

# A real login, as users do it: authorization code + PKCE, the "browser" is curl walking the
# provider's auto-login page into the loopback callback; the refresh token goes to the file store.
export PINGEDGE_CONFIG="$work/config/config.yaml"
BROWSER="curl -sSL -o /dev/null -c $work/jar -b $work/jar" \
  "$work/pingedge" login --issuer "$issuer" --client-id "$client_id" --flow pkce --store file \
  >"$work/login.log" 2>&1 || { echo "bench: login failed:" >&2; cat "$work/login.log" >&2; exit 1; }
# The bare proxy sends a token of this session too: the issuer's own token has fewer claims, and a
# shorter Authorization header is less to write and check per request (net/http scans each value).
"$work/pingedge" token >"$work/token" 2>>"$work/login.log"
if [ "${DPOP:-0}" = 1 ]; then # the same login for a second profile, with a DPoP key and bound tokens
  BROWSER="curl -sSL -o /dev/null -c $work/jar -b $work/jar" \
    "$work/pingedge" --profile dpop login --issuer "$issuer" --client-id "$client_id" --flow pkce --store file --dpop \
    >"$work/login-dpop.log" 2>&1 || { echo "bench: login --dpop failed:" >&2; cat "$work/login-dpop.log" >&2; exit 1; }
fi

"${load_cpu[@]}" "$work/tunnelbench" upstream "127.0.0.1:$upstream_port" ${UPSTREAM_DELAY:+"$UPSTREAM_DELAY"} >"$work/upstream.log" 2>&1 &
pids+=($!)
"${penv[@]}" "${proxy_cpu[@]}" "$work/tunnelbench" bare "127.0.0.1:$bare_port" "$upstream" "$work/token" >"$work/bare.log" 2>&1 &
pids+=($!)
bare_pid=$!
out=()
[ "$OUTPUT" = json ] && out=(-o json)
PINGEDGE_PPROF="127.0.0.1:$pprof_port" "${penv[@]}" "${proxy_cpu[@]}" "$work/pingedge" tunnel "${out[@]}" --to "$upstream" \
  --listen "127.0.0.1:$tunnel_port" >"$work/tunnel.log" 2>&1 &
pids+=($!)
tunnel_pid=$!
names="bare tunnel"
declare -A port=([bare]=$bare_port [tunnel]=$tunnel_port) pid=([bare]=$bare_pid [tunnel]=$tunnel_pid)
if [ -n "${BEFORE:-}" ]; then
  "${penv[@]}" "${proxy_cpu[@]}" "$BEFORE" tunnel "${out[@]}" --to "$upstream" --listen "127.0.0.1:$before_port" >"$work/before.log" 2>&1 &
  pids+=($!)
  names="bare tunnel before" port[before]=$before_port pid[before]=$!
fi
if [ "${DPOP:-0}" = 1 ]; then
  PINGEDGE_PPROF="127.0.0.1:$dpop_pprof_port" "${penv[@]}" "${proxy_cpu[@]}" "$work/pingedge" --profile dpop tunnel "${out[@]}" \
    --to "$upstream" --listen "127.0.0.1:$dpop_port" >"$work/dpop.log" 2>&1 &
  pids+=($!)
  names="$names dpop" port[dpop]=$dpop_port pid[dpop]=$!
fi
for name in upstream $names; do
  case $name in upstream) p=$upstream_port ;; *) p=${port[$name]} ;; esac
  wait_port "$p" "$name"
done

echo "== every proxy reaches the upstream (bearer; the DPoP tunnel with a proof the edge's checker accepts) =="
for name in $names; do
  want=Bearer path=/api/items
  [ "$name" = dpop ] && want=DPoP path=/check # /check runs internal/verify/dpop on the proof
  got=$(curl -s -o /dev/null -D - "http://127.0.0.1:${port[$name]}$path" | awk 'NR == 1 {c = $2} tolower($1) == "x-bench-scheme:" {s = $2} END {sub("\r", "", s); print c, s}')
  echo "$name 127.0.0.1:${port[$name]}$path: $got"
  [ "$got" = "200 $want" ] || { cat "$work/$name.log" >&2; exit 1; }
done

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; } # user + system time of a process
TCK=$(getconf CLK_TCK)
run_wrk() { # run_wrk PORT PID -> "requests/s CPU-µs-per-request"
  local before after out
  before=$(cpu_ticks "$2")
  out=$("${load_cpu[@]}" wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" "http://127.0.0.1:$1/api/items")
  after=$(cpu_ticks "$2")
  awk -v b="$before" -v a="$after" -v tck="$TCK" '
    /requests in/ {n = $1} /^Requests\/sec:/ {rps = $2}
    END {if (n > 0) printf "%s %.1f\n", rps, (a - b) / tck * 1e6 / n; else print "0 -"}' <<<"$out"
}
declare -A all=() cpu=()
for name in $names; do all[$name]="" cpu[$name]=""; done
pinning="no CPU pinning"
[ ${#proxy_cpu[@]} -gt 0 ] && pinning="proxy on CPU 0, wrk and upstream on the other CPUs"
echo "== wrk -t$THREADS -c$CONNS -d$DURATION, $ROUNDS interleaved rounds, access log $OUTPUT to a file; $pinning =="
for name in $names; do wrk -t1 -c4 -d2s "http://127.0.0.1:${port[$name]}/api/items" >/dev/null; done
if [ "${PPROF:-0}" = 1 ]; then
  echo "bench: profiling the tunnel for 10 s -> ${PPROF_OUT:-/tmp/tunnel.pprof}" >&2
  "${load_cpu[@]}" wrk -t"$THREADS" -c"$CONNS" -d12s "http://127.0.0.1:$tunnel_port/api/items" >/dev/null &
  curl -s -o "${PPROF_OUT:-/tmp/tunnel.pprof}" "http://127.0.0.1:$pprof_port/debug/pprof/profile?seconds=10"
  wait $!
  if [ "${DPOP:-0}" = 1 ]; then
    dpop_out=${PPROF_OUT:-/tmp/tunnel.pprof}
    dpop_out=${dpop_out%.pprof}-dpop.pprof
    echo "bench: profiling the DPoP tunnel for 10 s -> $dpop_out" >&2
    "${load_cpu[@]}" wrk -t"$THREADS" -c"$CONNS" -d12s "http://127.0.0.1:$dpop_port/api/items" >/dev/null &
    curl -s -o "$dpop_out" "http://127.0.0.1:$dpop_pprof_port/debug/pprof/profile?seconds=10"
    wait $!
  fi
fi
if [ "${PERF:-0}" = 1 ]; then # perf profiles of every proxy under the same load, for comparison
  for name in $names; do
    echo "bench: perf record of $name for 10 s -> /tmp/perf.$name.data" >&2
    "${load_cpu[@]}" wrk -t"$THREADS" -c"$CONNS" -d12s "http://127.0.0.1:${port[$name]}/api/items" >"/tmp/perf.$name.wrk" &
    perf record -q -F 499 -g -p "${pid[$name]}" -o "/tmp/perf.$name.data" -- sleep 10 2>/dev/null || true
    wait $!
  done
fi
if [ "$COUNT" = 1 ]; then
  count_native
  count_strace
  [ "$COUNT_CALLGRIND" = 1 ] && count_callgrind
  [ "$ROUNDS" = 0 ] && exit 0
fi
for round in $(seq "$ROUNDS"); do
  order=$names
  [ $((round % 2)) = 0 ] && order=$(tr ' ' '\n' <<<"$names" | tac | xargs) # none always runs first
  for name in $order; do
    read -r rps us <<<"$(run_wrk "${port[$name]}" "${pid[$name]}")"
    printf 'round %d  %-7s %10.0f req/s  %7s µs CPU/request\n' "$round" "$name" "$rps" "$us"
    all[$name]="${all[$name]} $rps"
    [ "$us" != - ] && cpu[$name]="${cpu[$name]} $us" # a starved round (0 requests) has no CPU figure
  done
done
stat() { tr ' ' '\n' <<<"$1" | awk 'NF' | sort -n | awk -v k="$2" '{v[NR]=$1} END {print (k=="best") ? v[NR] : (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
ratios() { paste <(tr ' ' '\n' <<<"$1" | awk 'NF') <(tr ' ' '\n' <<<"$2" | awk 'NF') | awk '$1 > 0 && $2 > 0 {printf "%.3f ", $1 / $2}'; } # a starved round has no ratio
echo "== result =="
printf '%-40s %10.0f/s median, %10.0f/s best\n' "bare httputil.ReverseProxy + Authorization" "$(stat "${all[bare]}" median)" "$(stat "${all[bare]}" best)"
printf '%-40s %10.0f/s median, %10.0f/s best\n' "pingedge tunnel (access log on)" "$(stat "${all[tunnel]}" median)" "$(stat "${all[tunnel]}" best)"
[ -n "${BEFORE:-}" ] && printf '%-40s %10.0f/s median, %10.0f/s best\n' "pingedge tunnel, BEFORE binary" "$(stat "${all[before]}" median)" "$(stat "${all[before]}" best)"
[ "${DPOP:-0}" = 1 ] && printf '%-40s %10.0f/s median, %10.0f/s best\n' "pingedge tunnel with DPoP" "$(stat "${all[dpop]}" median)" "$(stat "${all[dpop]}" best)"
for name in $names; do
  [ "$name" = bare ] && continue
  r=$(ratios "${all[$name]}" "${all[bare]}")
  echo "per-round $name / bare: $r"
  printf '%s / bare proxy = %.2fx (median of rounds; goal >= 0.95x)\n' "$name" "$(stat "$r" median)"
  cb=$(stat "${cpu[bare]}" median) ct=$(stat "${cpu[$name]}" median)
  awk -v n="$name" -v b="$cb" -v t="$ct" 'BEGIN {printf "CPU per request (median): bare %.1f µs, %s %.1f µs; capacity per core %s / bare = %.2fx\n", b, n, t, n, b / t}'
done
if [ "${DPOP:-0}" = 1 ]; then # issue 14: the tunnel with DPoP against the same tunnel without
  r=$(ratios "${all[dpop]}" "${all[tunnel]}")
  echo "per-round dpop / tunnel: $r"
  printf 'dpop / tunnel = %.2fx (median of per-round ratios; goal >= 0.9x)%s\n' "$(stat "$r" median)" "${UPSTREAM_DELAY:+, upstream delay $UPSTREAM_DELAY}"
  ct=$(stat "${cpu[tunnel]}" median) cdp=$(stat "${cpu[dpop]}" median)
  awk -v t="$ct" -v d="$cdp" 'BEGIN {printf "CPU per request (median): tunnel %.1f µs, dpop %.1f µs (+%.1f µs per proof); capacity per core dpop / tunnel = %.2fx\n", t, d, d - t, t / d}'
fi
echo "access-log lines written by the tunnel: $(grep -c "/api/items" "$work/tunnel.log" || true); one of them: $(grep -m1 "/api/items" "$work/tunnel.log" || true)"
