# Sourced by bench/tunnel.sh for COUNT=1: what each proxy process does per request, in figures that
# other programs loading the machine do not move (wall-clock ratios swing 0.5-6x on a shared box).
#
# Native run, every proxy under the same `wrk -t$THREADS -c$CONNS -d$COUNT_DURATION`, in
# $COUNT_ROUNDS interleaved rounds, counted by `perf stat -p PID -- wrk ...` (perf counts the
# proxy's events for exactly as long as wrk runs):
#   syscalls/req   raw_syscalls:sys_enter tracepoint events / requests wrk reports
#   cswitch/req    context switches / requests
#   cpu µs/req     task-clock / requests (CPU time: moves with cache and SMT contention, ±15 %),
#                  split into user and system time from /proc/PID/stat
#   instr u, k     instructions:u and instructions:k per request, where the CPU exposes hardware
#                  counters to perf (not on every VM: then "n/a" and the callgrind figure below)
#   GC/10k req     garbage collections (GODEBUG=gctrace=1 lines in the proxy's log) per 10k requests
# then one `strace -c -f` window per proxy: system calls by name per request (strace slows the
# process down, but counts per request are what it is for).
# Callgrind run (COUNT_CALLGRIND=1, the default when perf has no instruction counters): each proxy
# started again under valgrind --tool=callgrind (GODEBUG=asyncpreemptoff=1: callgrind aborts on the
# Go runtime's preemption signals), counters zeroed after a warm-up, one window of load, then
# user-space instructions per request (callgrind's Ir total / requests). Valgrind runs a process's
# threads one at a time and ~50x slower, so spinning and batching differ from a native run: read
# the ratio between proxies, not the absolute figure.

count_tools() {
  local need=()
  command -v perf >/dev/null || need+=(linux-perf)
  command -v strace >/dev/null || need+=(strace)
  [ "$COUNT_CALLGRIND" = 1 ] && ! command -v valgrind >/dev/null && need+=(valgrind)
  [ ${#need[@]} = 0 ] && return 0
  local sudo=
  [ "$(id -u)" != 0 ] && sudo=sudo
  echo "bench: installing ${need[*]}" >&2
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
}

hw_counters() { ! perf stat -x, -e instructions:u -- true 2>&1 | grep -q "not supported"; }

gc_cycles() { grep -cE '^gc [0-9]+ @' "$work/$1.log" || true; }

ticks() { awk '{print $14, $15}' "/proc/$1/stat"; } # user and system clock ticks of a process

count_round() { # count_round NAME PORT PID -> "requests syscalls cswitches task-ms instr_u instr_k gcs user-ms sys-ms"
  local name=$1 gc0 n t0 t1 events=raw_syscalls:sys_enter,context-switches,task-clock
  hw_counters && events="$events,instructions:u,instructions:k"
  gc0=$(gc_cycles "$name") t0=$(ticks "$3")
  n=$("${load_cpu[@]}" perf stat -x, -o "$work/perf.$name" -e "$events" -p "$3" -- \
    wrk -t"$THREADS" -c"$CONNS" -d"$COUNT_DURATION" "http://127.0.0.1:$2/api/items" | awk '/requests in/ {print $1}')
  t1=$(ticks "$3")
  sleep 0.2 # the gctrace line of a cycle that ended with the load
  awk -F, -v n="$n" -v gc=$(($(gc_cycles "$name") - gc0)) -v t0="$t0" -v t1="$t1" -v tck="$(getconf CLK_TCK)" '
    $3 ~ /raw_syscalls/ {s = $1} $3 ~ /context-switches/ {c = $1} $3 ~ /task-clock/ {t = $1}
    $3 ~ /instructions:u/ {u = $1} $3 ~ /instructions:k/ {k = $1}
    END {split(t0, a, " "); split(t1, b, " ")
      print n, s, c, t, (u == "" ? "-" : u), (k == "" ? "-" : k), gc, (b[1] - a[1]) * 1000 / tck, (b[2] - a[2]) * 1000 / tck}' "$work/perf.$name"
}

count_native() {
  local name r n s c t u k g
  declare -A tot=()
  echo "== COUNT: per request, wrk -t$THREADS -c$CONNS -d$COUNT_DURATION, $COUNT_ROUNDS interleaved rounds (perf stat -p) =="
  hw_counters || echo "(this CPU exposes no instruction counters to perf: instructions come from callgrind below)"
  for round in $(seq "$COUNT_ROUNDS"); do
    local order=$names
    [ $((round % 2)) = 0 ] && order=$(tr ' ' '\n' <<<"$names" | tac | xargs)
    for name in $order; do
      read -r n s c t u k g us sy <<<"$(count_round "$name" "${port[$name]}" "${pid[$name]}")"
      awk -v r="$round" -v m="$name" -v n="$n" -v s="$s" -v c="$c" -v t="$t" -v u="$u" -v k="$k" -v g="$g" -v us="$us" -v sy="$sy" 'BEGIN {
        printf "round %d  %-7s %7d req  %6.2f syscalls/req  %5.2f cswitch/req  %6.1f cpu µs/req (user %5.1f sys %5.1f)  %s  %5.2f GC/10k req\n",
          r, m, n, s / n, c / n, t * 1000 / n, us * 1000 / n, sy * 1000 / n, (u == "-" ? "instr n/a" : sprintf("instr u %.0f k %.0f /req", u / n, k / n)), g * 1e4 / n}'
      for f in n s c t u k g us sy; do tot[$name.$f]=$(awk -v a="${tot[$name.$f]:-0}" -v b="${!f}" 'BEGIN {print (b == "-") ? "-" : a + b}'); done
    done
  done
  echo "== COUNT totals over all rounds (per request) =="
  for name in $names; do
    awk -v m="$name" -v n="${tot[$name.n]}" -v s="${tot[$name.s]}" -v c="${tot[$name.c]}" -v t="${tot[$name.t]}" \
      -v u="${tot[$name.u]}" -v k="${tot[$name.k]}" -v g="${tot[$name.g]}" -v us="${tot[$name.us]}" -v sy="${tot[$name.sy]}" \
      -v bs="${tot[bare.s]}" -v bn="${tot[bare.n]}" -v bt="${tot[bare.t]}" -v bu="${tot[bare.u]}" -v bk="${tot[bare.k]}" 'BEGIN {
      printf "%-7s syscalls %6.2f (%.3fx bare)  cpu %6.1f µs (%.3fx bare; user %.1f sys %.1f)  cswitch %5.2f  GC/10k %5.2f", m, s / n, (s / n) / (bs / bn), t * 1000 / n, (t / n) / (bt / bn), us * 1000 / n, sy * 1000 / n, c / n, g * 1e4 / n
      if (u != "-") printf "  instr u+k %.0f (%.3fx bare)", (u + k) / n, ((u + k) / n) / ((bu + bk) / bn)
      printf "\n"}'
  done
}

count_strace() { # system calls by name per request, one window per proxy
  local name n
  echo "== COUNT: system calls by name per request (strace -c -f, one ${COUNT_DURATION} window each) =="
  for name in $names; do
    strace -c -f -q -o "$work/strace.$name" -p "${pid[$name]}" &
    local st=$!
    sleep 0.5
    n=$("${load_cpu[@]}" wrk -t"$THREADS" -c"$CONNS" -d"$COUNT_DURATION" "http://127.0.0.1:${port[$name]}/api/items" | awk '/requests in/ {print $1}')
    kill -INT "$st"; wait "$st" 2>/dev/null || true
    awk -v m="$name" -v n="$n" '$NF ~ /^[a-z_0-9]+$/ && $(NF-1) ~ /^[0-9]+$/ && $NF != "total" && $NF != "syscall" {
      calls = ($(NF-2) ~ /^[0-9]+$/ && NF == 6) ? $(NF-2) : $(NF-1); if (NF == 5) calls = $(NF-1); c[$NF] = calls}
      END {printf "%-7s (%d req):", m, n; for (s in c) if (c[s] / n >= 0.005) printf " %s %.2f", s, c[s] / n; printf "\n"}' "$work/strace.$name"
  done
}

count_callgrind() { # user-space instructions per request under callgrind
  local name p cpid n total i=0
  echo "== COUNT: user-space instructions per request (valgrind --tool=callgrind, ${COUNT_DURATION} window after a warm-up) =="
  declare -A ir=()
  for name in $names; do
    p=$((BASE_PORT + 7 + i)) i=$((i + 1))
    case $name in
    bare) GODEBUG=asyncpreemptoff=1 valgrind --tool=callgrind --callgrind-out-file="$work/cg.$name" \
      "$work/tunnelbench" bare "127.0.0.1:$p" "$upstream" "$work/token" >"$work/cg.$name.log" 2>&1 & ;;
    tunnel) GODEBUG=asyncpreemptoff=1 valgrind --tool=callgrind --callgrind-out-file="$work/cg.$name" \
      "$work/pingedge" tunnel "${out[@]}" --to "$upstream" --listen "127.0.0.1:$p" >"$work/cg.$name.log" 2>&1 & ;;
    before) GODEBUG=asyncpreemptoff=1 valgrind --tool=callgrind --callgrind-out-file="$work/cg.$name" \
      "$BEFORE" tunnel "${out[@]}" --to "$upstream" --listen "127.0.0.1:$p" >"$work/cg.$name.log" 2>&1 & ;;
    dpop) GODEBUG=asyncpreemptoff=1 valgrind --tool=callgrind --callgrind-out-file="$work/cg.$name" \
      "$work/pingedge" --profile dpop tunnel "${out[@]}" --to "$upstream" --listen "127.0.0.1:$p" >"$work/cg.$name.log" 2>&1 & ;;
    esac
    cpid=$!
    pids+=("$cpid")
    for _ in $(seq 600); do (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && break; sleep 0.1; done
    wrk -t1 -c"$CONNS" -d2s "http://127.0.0.1:$p/api/items" >/dev/null
    callgrind_control -z "$cpid" >/dev/null 2>&1
    n=$(wrk -t"$THREADS" -c"$CONNS" -d"$COUNT_DURATION" "http://127.0.0.1:$p/api/items" | awk '/requests in/ {print $1}')
    callgrind_control -d "$cpid" >/dev/null 2>&1
    sleep 0.5
    total=$(awk '/^(summary|totals):/ {t = $2} END {print t}' "$work/cg.$name".*)
    kill "$cpid" 2>/dev/null || true
    ir[$name]=$(awk -v t="$total" -v n="$n" 'BEGIN {printf "%.0f", t / n}')
    printf '%-7s %d req  %s user instructions/req\n' "$name" "$n" "${ir[$name]}"
  done
  for name in $names; do
    [ "$name" = bare ] && continue
    awk -v m="$name" -v a="${ir[$name]}" -v b="${ir[bare]}" 'BEGIN {printf "%s / bare = %.3fx user instructions per request\n", m, a / b}'
  done
}
