#!/usr/bin/env bash
# The decision log's cost on the service (BENCHMARKS.md, "The decision log"): the same load
# with no log and with each sink, on loopback. For each: `examples/load` at a fixed 5,000
# requests/s, then `wrk` saturation (2 threads, 64 connections), on `/v1/decide` with the mixed
# 100 queries for wrk and the one query for the fixed rate; after each run the server is stopped
# with SIGTERM (its queue written out), and `aipolicy audit summary` and `verify` read the log.
# PostgreSQL is measured when AIPOLICY_BENCH_POSTGRES names a database (it is emptied).
# Run from crates/aipolicy-server.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/../../target}"
cargo build --release -p aipolicy-cli --bin aipolicy
cargo build --release -p aipolicy-server --example load
bin="$CARGO_TARGET_DIR/release"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
port=18283
url="http://127.0.0.1:$port"
secs=${SECS:-10}
sinks=("none" "sqlite:$work/audit.db" "sqlite:$work/sync.db --log-sync" "jsonl:$work/audit.jsonl")
if [ -n "${AIPOLICY_BENCH_POSTGRES:-}" ]; then
  psql "$AIPOLICY_BENCH_POSTGRES" -qc 'DROP TABLE IF EXISTS decisions, log_meta' >/dev/null
  sinks+=("$AIPOLICY_BENCH_POSTGRES")
fi
for sink in "${sinks[@]}"; do
  args=()
  if [ "$sink" != none ]; then
    read -r -a extra <<<"$sink"
    args=(--log "${extra[@]}")
  fi
  echo "== sink: $sink"
  (cd "$work" && exec "$bin/aipolicy" serve -q --listen "127.0.0.1:$port" --watch 0 "${args[@]}") &
  server=$!
  for _ in $(seq 50); do curl -sf "$url/health/ready" >/dev/null && break; sleep 0.1; done
  "$bin/examples/load" "$url/v1/decide" bench/decide.json 5000 "$secs" 64
  wrk -t2 -c64 -d"${secs}s" --latency -s bench/decide_mixed.lua "$url/v1/decide" | grep -E "Requests/sec|50%|99%"
  curl -s "$url/metrics" | grep -E '^aipolicy_decision_log_(queue_depth|dropped_total)' || true
  kill -TERM "$server"
  wait "$server" || true
  if [ "$sink" != none ]; then
    log=${sink%% *}
    /usr/bin/time -f "audit summary: %e s" "$bin/aipolicy" audit summary --log "$log" --format json | grep -E '"(total|allow|deny)"'
    /usr/bin/time -f "audit verify: %e s" "$bin/aipolicy" audit verify --log "$log" | head -1
  fi
done
