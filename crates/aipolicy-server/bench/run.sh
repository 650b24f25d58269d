#!/usr/bin/env bash
# The load run of BENCHMARKS.md, on loopback only: builds the server and the tools (release),
# starts `aipolicy serve -q` from an empty folder (the embedded Askersund policy), and runs each
# measurement for a bounded time. Run from crates/aipolicy-server.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/../../target}"
cargo build --release -p aipolicy-cli --bin aipolicy
cargo build --release -p aipolicy-server --example load --example batch_rate
bin="$CARGO_TARGET_DIR/release"
empty=$(mktemp -d)
port=18282
(cd "$empty" && exec "$bin/aipolicy" serve -q --listen "127.0.0.1:$port" --watch 0) &
server=$!
trap 'kill "$server" 2>/dev/null; rm -rf "$empty"' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null && break; sleep 0.1; done
url="http://127.0.0.1:$port"
secs=${SECS:-10}
echo "== fixed rates (open loop, latency from the scheduled send time)"
for rate in 1000 5000 10000; do
  "$bin/examples/load" "$url/v1/decide" bench/decide.json "$rate" "$secs" 64
  "$bin/examples/load" "$url/access/v1/evaluation" bench/evaluation.json "$rate" "$secs" 64
done
echo "== saturation (wrk, closed loop: 2 threads, 64 connections)"
wrk -t2 -c64 -d"${secs}s" --latency -s bench/decide.lua "$url/v1/decide"
wrk -t2 -c64 -d"${secs}s" --latency -s bench/decide_mixed.lua "$url/v1/decide"
wrk -t2 -c64 -d"${secs}s" --latency -s bench/evaluation.lua "$url/access/v1/evaluation"
wrk -t2 -c16 -d"${secs}s" --latency -s bench/evaluations100.lua "$url/access/v1/evaluations"
echo "== aipolicy batch on the same 100 queries"
"$bin/examples/batch_rate" bench/queries100.jsonl 1000000
