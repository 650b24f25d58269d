#!/usr/bin/env bash
# The gateway's runs of BENCHMARKS.md, on loopback only: builds the fake AI system with the
# gateway in front of it (examples/gateway_bench.rs) and the open-loop load tool (release),
# then
#  1. drives the same open load (RATE requests/s for SECS s, 64 connections, a 4.5 KB chat
#     completion) directly at the fake and through the gateway, and the refused prompt (a
#     personnummer to public AI) at the gateway;
#  2. streams a 10 MiB answer through the gateway while sampling the process's VmRSS: once
#     with the AI system slower than the client (5 ms between 64 KiB events), once with the
#     client slower than the AI system (curl reading 2 MiB/s from an AI system that does not
#     pause), three answers each.
# Run from anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/../../target}"
cargo build --release -p aipolicy-server --example load
cargo build --release -p aipolicy-gateway --example gateway_bench
bin="$CARGO_TARGET_DIR/release/examples"
rate=${RATE:-1000}
secs=${SECS:-10}
caller=(-H 'authorization: Bearer bench-secret' -H 'x-aipolicy-user: anna')

# Starts the fake and the gateway (one process) with $1 ms between the streamed answer's
# events; sets upstream, gateway and pid. Closing its standard input stops it.
start() {
  coproc BENCH { CHUNK_PAUSE_MS=$1 exec "$bin/gateway_bench"; }
  read -r _ upstream <&"${BENCH[0]}"
  read -r _ gateway <&"${BENCH[0]}"
  read -r _ pid <&"${BENCH[0]}"
}
stop() {
  local running=$BENCH_PID
  eval "exec ${BENCH[1]}>&-"
  wait "$running" || true
}
trap 'if [[ -n "${BENCH_PID:-}" ]]; then kill "$BENCH_PID" 2>/dev/null || true; fi' EXIT

# A field of the process's /proc status in kB: VmRSS (resident now), VmHWM (the kernel's
# record of the largest VmRSS since the start, which no sampling interval can miss).
status() {
  local key value
  while read -r key value _; do
    if [[ $key == "$1:" ]]; then echo "$value"; return; fi
  done <"/proc/$pid/status"
}
rss() { status VmRSS; }

# Streams the 10 MiB answer through the gateway (extra curl arguments in "$@"), sampling VmRSS.
stream() {
  local before peak now client out
  out=$(mktemp)
  before=$(rss)
  peak=$before
  curl -sN "$gateway/v1/chat/completions" "${caller[@]}" -H 'x-aipolicy-data: intern' \
    -H 'content-type: application/json' --data-binary @bench/chat_stream.json "$@" \
    -o /dev/null -w '%{http_code}, %{size_download} bytes in %{time_total} s' >"$out" &
  client=$!
  while kill -0 "$client" 2>/dev/null; do
    now=$(rss)
    if ((now > peak)); then peak=$now; fi
    sleep 0.005
  done
  wait "$client"
  sleep 1
  echo "  $(cat "$out"): VmRSS before $before kB, peak $peak kB (+$((peak - before)) kB), 1 s after $(rss) kB; VmHWM $(status VmHWM) kB"
  rm -f "$out"
}

start 5
echo "== latency: the same open load directly at the fake AI system and through the gateway"
echo "(warm-up through the gateway, not counted)"
"$bin/load" "$gateway/v1/chat/completions" bench/chat_4k.json "$rate" 2 64 \
  "${caller[@]}" -H 'x-aipolicy-data: intern' >/dev/null
for round in 1 2; do
  echo "-- round $round: direct"
  "$bin/load" "$upstream/v1/chat/completions" bench/chat_4k.json "$rate" "$secs" 64
  echo "-- round $round: through the gateway (allowed, forwarded)"
  "$bin/load" "$gateway/v1/chat/completions" bench/chat_4k.json "$rate" "$secs" 64 \
    "${caller[@]}" -H 'x-aipolicy-data: intern'
done
echo "-- through the gateway: a personnummer to public AI (refused, 403, never forwarded)"
"$bin/load" "$gateway/v1/chat/completions" bench/chat_4k_personnummer.json "$rate" "$secs" 64 \
  "${caller[@]}" -H 'x-aipolicy-data: oppen' --status 403
echo "== memory: a 10 MiB answer streamed through; the AI system pauses 5 ms between 64 KiB events"
echo "  (after the load: VmRSS $(rss) kB, VmHWM $(status VmHWM) kB)"
for _ in 1 2 3; do stream; done
stop

start 0
# One small request first, so that the first answer does not carry the process's first-use
# allocations (as the load above did for the first process).
curl -s "$gateway/v1/chat/completions" "${caller[@]}" -H 'x-aipolicy-data: intern' \
  -H 'content-type: application/json' --data-binary @bench/chat_4k.json -o /dev/null
echo "== memory: the AI system does not pause; the client reads 2 MiB/s"
echo "  (a fresh process after one small request: VmRSS $(rss) kB, VmHWM $(status VmHWM) kB)"
for _ in 1 2 3; do stream --limit-rate 2M; done
stop
