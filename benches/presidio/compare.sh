#!/usr/bin/env bash
# aipolicy's text finders and Presidio's Swedish personnummer recognizer side by side, each on
# one core (taskset -c 0), on the same generated corpora, in one run: the figures of
# BENCHMARKS.md, "Finding information in text".
#
#   python3 -m venv /tmp/presidio && /tmp/presidio/bin/pip install -r benches/presidio/requirements.txt
#   cargo build --release -p aipolicy --example text_rate && cargo build --release -p aipolicy-cli
#   benches/presidio/compare.sh [DIR] [SECONDS]
#
# PRESIDIO_PYTHON names the venv's python (default /tmp/presidio/bin/python); CARGO_TARGET_DIR
# the build's folder (default target).
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=${1:-/tmp/aipolicy-text-corpus}
seconds=${2:-10}
python=${PRESIDIO_PYTHON:-/tmp/presidio/bin/python}
target=${CARGO_TARGET_DIR:-target}
rate="$target/release/examples/text_rate"
aipolicy="$target/release/aipolicy"

"$rate" write "$dir"
lscpu | grep -E '^Model name'
for corpus in prompts documents; do
  taskset -c 0 "$rate" rate "$corpus" "$seconds"
  taskset -c 0 "$python" benches/presidio/bench.py rate "$dir" "$corpus" "$seconds"
  if [ -x "$aipolicy" ]; then
    # The whole command: JSON lines in, decisions out, the bundled register and policies.
    lines=$(wc -l < "$dir/$corpus.queries.jsonl")
    bytes=$("$python" -c "import json,sys; print(sum(len(json.loads(l)['text'].encode()) for l in open(sys.argv[1])))" "$dir/$corpus.queries.jsonl")
    best=
    for _ in 1 2 3; do
      start=$(date +%s.%N)
      taskset -c 0 "$aipolicy" batch --quiet "$dir/$corpus.queries.jsonl" > "$dir/$corpus.decisions.jsonl"
      took=$(echo "$(date +%s.%N) - $start" | bc -l)
      if [ -z "$best" ] || [ "$(echo "$took < $best" | bc -l)" = 1 ]; then best=$took; fi
    done
    echo "aipolicy batch $corpus: $lines lines, best of 3: $(echo "$lines / $best" | bc -l | xargs printf '%.0f') texts/s, $(echo "$bytes / $best / 1000000" | bc -l | xargs printf '%.1f') MB/s of text ($best s)"
  fi
done
"$rate" check
"$python" benches/presidio/bench.py check "$dir"
