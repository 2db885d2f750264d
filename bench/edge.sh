#!/usr/bin/env bash
# Load benchmark of `pingedge edge serve` (issue 5): one run, same origin, same token, same wrk
# settings for each of
#   bare     a bare httputil.ReverseProxy (no auth): the ceiling for any Go gateway
#   pingedge pingedge edge serve --origin (JWT verified, policy decided, audit line written)
#   oauth2   oauth2-proxy v7 in JWT bearer mode (--skip-jwt-bearer-tokens), the usual alternative
# and prints requests/s and the ratios (goals: pingedge >= 0.9x bare, >= 3x oauth2-proxy).
# Installs wrk (Debian package) and oauth2-proxy (go install, pinned) when missing.
# Not part of `make test`. Knobs: DURATION (10s), CONNS (32), THREADS (1), ROUNDS (3),
# BASE_PORT (18000), PIN (1: pin the proxy under test to CPU 0), VARIANT_GOGC (e.g. 200: also
# run a second `pingedge edge serve` with that GOGC in the same rounds, printed as "variant").
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
CONNS=${CONNS:-32}
THREADS=${THREADS:-1}
ROUNDS=${ROUNDS:-3}
BASE_PORT=${BASE_PORT:-18000}
OAUTH2_PROXY_VERSION=v7.15.6

if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi
  echo "bench: installing wrk" >&2
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq wrk >/dev/null
fi
O2P="$(go env GOPATH)/bin/oauth2-proxy"
if [ ! -x "$O2P" ] || ! go version -m "$O2P" 2>/dev/null | grep -q "oauth2-proxy/v7[[:space:]]*$OAUTH2_PROXY_VERSION"; then
  echo "bench: installing oauth2-proxy $OAUTH2_PROXY_VERSION" >&2
  go install "github.com/oauth2-proxy/oauth2-proxy/v7@$OAUTH2_PROXY_VERSION"
fi

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# With 2+ CPUs the proxy under test gets CPU 0 and everything else (wrk, origin, issuer) the
# rest, so each proxy is the bottleneck and its own cost per request is what is measured.
# PIN=0 turns this off.
proxy_cpu=() load_cpu=()
if [ "${PIN:-1}" = 1 ] && [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
  proxy_cpu=(taskset -c 0) load_cpu=(taskset -c "1-$(($(nproc) - 1))")
fi

go build -o "$work/pingedge" ./cmd/pingedge
go build -o "$work/edgebench" ./bench/edgebench

origin_port=$((BASE_PORT + 1)) bare_port=$((BASE_PORT + 2)) edge_port=$((BASE_PORT + 3))
o2p_port=$((BASE_PORT + 4)) issuer_port=$((BASE_PORT + 5)) variant_port=$((BASE_PORT + 6))
VARIANT_GOGC=${VARIANT_GOGC:-}
origin="http://127.0.0.1:$origin_port"

wait_port() { # wait_port PORT NAME
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done
  echo "bench: $2 did not start; its log:" >&2; cat "$work/$2.log" >&2 || true; exit 1
}

"${load_cpu[@]}" "$work/edgebench" issuer "127.0.0.1:$issuer_port" "$work/token" >"$work/issuer.url" 2>"$work/issuer.log" &
pids+=($!)
wait_port "$issuer_port" issuer
for _ in $(seq 50); do [ -s "$work/issuer.url" ] && break; sleep 0.1; done
issuer=$(cat "$work/issuer.url")
token=$(cat "$work/token")

"${load_cpu[@]}" "$work/edgebench" origin "127.0.0.1:$origin_port" >"$work/origin.log" 2>&1 &
pids+=($!)
"${proxy_cpu[@]}" "$work/edgebench" bare "127.0.0.1:$bare_port" "$origin" >"$work/bare.log" 2>&1 &
pids+=($!)
bare_pid=$!

cat >"$work/policy.yaml" <<POLICY
issuer: $issuer
audience: https://api.example.com
roles_claim: roles
rules:
  - path: /api/**
    roles: [engineer, admin]
default: deny
forward:
  X-Auth-User: sub
  X-Auth-Email: email
POLICY
"${proxy_cpu[@]}" "$work/pingedge" edge serve --policy "$work/policy.yaml" --origin "$origin" \
  --listen "127.0.0.1:$edge_port" >"$work/audit.jsonl" 2>"$work/pingedge.log" &
pids+=($!)
edge_pid=$!
names="bare pingedge oauth2"
if [ -n "$VARIANT_GOGC" ]; then
  GOGC=$VARIANT_GOGC "${proxy_cpu[@]}" "$work/pingedge" edge serve --policy "$work/policy.yaml" \
    --origin "$origin" --listen "127.0.0.1:$variant_port" >"$work/audit-variant.jsonl" 2>"$work/variant.log" &
  pids+=($!)
  variant_pid=$!
  names="bare pingedge variant oauth2"
fi

# oauth2-proxy: OIDC provider from devop; bearer JWTs verified against the issuer's JWKS with
# audience pingedge-cli (its client ID) or, via --extra-jwt-issuers, the API audience.
"${proxy_cpu[@]}" "$O2P" --http-address "127.0.0.1:$o2p_port" --upstream "$origin/" \
  --provider oidc --oidc-issuer-url "$issuer" --client-id pingedge-cli --client-secret unused \
  --cookie-secret 0123456789abcdef0123456789abcdef --cookie-secure=false --email-domain '*' \
  --skip-jwt-bearer-tokens --extra-jwt-issuers "$issuer=https://api.example.com" \
  --bearer-token-login-fallback=false >"$work/oauth2.log" 2>&1 &
pids+=($!)
o2p_pid=$!

for p in "$origin_port:origin" "$bare_port:bare" "$edge_port:pingedge" "$o2p_port:oauth2"; do
  wait_port "${p%%:*}" "${p#*:}"
done
[ -z "$VARIANT_GOGC" ] || wait_port "$variant_port" variant
echo "== each proxy answers the token with the origin's 200 =="
"$work/edgebench" check "http://127.0.0.1:$bare_port/api/items" "$work/token"
"$work/edgebench" check "http://127.0.0.1:$edge_port/api/items" "$work/token"
"$work/edgebench" check "http://127.0.0.1:$o2p_port/api/items" "$work/token"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; } # user + system time of a process
TCK=$(getconf CLK_TCK)
run_wrk() { # run_wrk PORT PID -> "requests/s CPU-µs-per-request"
  local before after out
  before=$(cpu_ticks "$2")
  out=$("${load_cpu[@]}" wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" -H "Authorization: Bearer $token" \
    "http://127.0.0.1:$1/api/items")
  after=$(cpu_ticks "$2")
  awk -v b="$before" -v a="$after" -v tck="$TCK" '
    /requests in/ {n = $1} /^Requests\/sec:/ {rps = $2}
    END {printf "%s %.1f\n", rps, (a - b) / tck * 1e6 / n}' <<<"$out"
}
declare -A port=([bare]=$bare_port [pingedge]=$edge_port [oauth2]=$o2p_port [variant]=$variant_port)
declare -A pid=([bare]=$bare_pid [pingedge]=$edge_pid [oauth2]=$o2p_pid [variant]=${variant_pid:-})
declare -A all=([bare]="" [pingedge]="" [oauth2]="" [variant]="") cpu=([bare]="" [pingedge]="" [oauth2]="" [variant]="")
pinning="no CPU pinning"
[ ${#proxy_cpu[@]} -gt 0 ] && pinning="proxy on CPU 0, wrk and origin on the other CPUs"
echo "== wrk -t$THREADS -c$CONNS -d$DURATION, $ROUNDS interleaved rounds; $pinning =="
for name in $names; do wrk -t1 -c4 -d2s -H "Authorization: Bearer $token" "http://127.0.0.1:${port[$name]}/api/items" >/dev/null; done
for round in $(seq "$ROUNDS"); do
  for name in $names; do
    read -r rps us <<<"$(run_wrk "${port[$name]}" "${pid[$name]}")"
    printf 'round %d  %-9s %10.0f req/s  %7.1f µs CPU/request\n' "$round" "$name" "$rps" "$us"
    all[$name]="${all[$name]} $rps"
    cpu[$name]="${cpu[$name]} $us"
  done
done
# The median resists a neighbour's burst in one round; the best is each proxy's capacity when
# nothing else ran. Both are printed; on a quiet machine they agree.
stat() { tr ' ' '\n' <<<"$1" | awk 'NF' | sort -n | awk -v k="$2" '{v[NR]=$1} END {print (k=="best") ? v[NR] : (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
echo "== result =="
printf '%-36s %12s %12s\n' "" "median" "best"
for name in $names; do
  case $name in
    bare) label="bare httputil.ReverseProxy" ;;
    pingedge) label="pingedge edge serve --origin" ;;
    variant) label="pingedge edge serve, GOGC=$VARIANT_GOGC" ;;
    oauth2) label="oauth2-proxy $OAUTH2_PROXY_VERSION (JWT bearer)" ;;
  esac
  printf '%-36s %10.0f/s %10.0f/s\n' "$label" "$(stat "${all[$name]}" median)" "$(stat "${all[$name]}" best)"
done
# Ratios per round (each pair measured back to back), then their median: the most robust
# figure on a shared machine.
ratios() { paste <(tr ' ' '\n' <<<"$1" | awk 'NF') <(tr ' ' '\n' <<<"$2" | awk 'NF') | awk '{printf "%s ", $1 / $2}'; }
pb=$(ratios "${all[pingedge]}" "${all[bare]}")
po=$(ratios "${all[pingedge]}" "${all[oauth2]}")
echo "per-round pingedge / bare:   $pb"
echo "per-round pingedge / oauth2: $po"
printf 'pingedge / bare proxy   = %.2fx (median of rounds; goal >= 0.90x)\n' "$(stat "$pb" median)"
printf 'pingedge / oauth2-proxy = %.2fx (median of rounds; goal >= 3.00x)\n' "$(stat "$po" median)"
# CPU time per request is what a proxy costs no matter what else runs on the machine; its
# inverse is the proxy's capacity on one dedicated core.
cb=$(stat "${cpu[bare]}" median) cp=$(stat "${cpu[pingedge]}" median) co=$(stat "${cpu[oauth2]}" median)
printf 'CPU per request (median): bare %.1f µs, pingedge %.1f µs, oauth2-proxy %.1f µs\n' "$cb" "$cp" "$co"
awk -v b="$cb" -v p="$cp" -v o="$co" 'BEGIN {
  printf "capacity per core: pingedge / bare = %.2fx (goal >= 0.90x), pingedge / oauth2-proxy = %.2fx (goal >= 3.00x)\n", b / p, o / p
}'
if [ -n "$VARIANT_GOGC" ]; then
  pv=$(ratios "${all[variant]}" "${all[bare]}")
  cv=$(stat "${cpu[variant]}" median)
  echo "per-round variant / bare:    $pv"
  printf 'variant (GOGC=%s) / bare = %.2fx (median of rounds); CPU per request %.1f µs, capacity per core / bare = %s\n' \
    "$VARIANT_GOGC" "$(stat "$pv" median)" "$cv" "$(awk -v b="$cb" -v v="$cv" 'BEGIN {printf "%.2fx", b / v}')"
fi
echo "audit lines written by pingedge: $(wc -l <"$work/audit.jsonl")"
