#!/usr/bin/env bash
# aipolicy's text finders and Presidio's Swedish personnummer recognizer side by side, each on
# one core (taskset -c 0), on the same generated corpora, in one run: the figures of
# BENCHMARKS.md, "Finding information in text".
#
#   python3 -m venv /tmp/presidio && /tmp/presidio/bin/pip install -r benches/presidio/requirements.txt
#   cargo build --release -p aipolicy --example text_rate && cargo build --release -p aipolicy-cli
#   benches/presidio/compare.sh [DIR] [SECONDS] [SLICES]
#
# The machine's speed drifts by a third over minutes when other work shares it, so the two
# sides are measured in turns: SLICES times (default 5) aipolicy for SECONDS, then Presidio for
# SECONDS. Each turn's ratio compares two measures taken seconds apart; the summary gives the
# median of those ratios and each side's best turn.
#
# PRESIDIO_PYTHON names the venv's python (default /tmp/presidio/bin/python); CARGO_TARGET_DIR
# the build's folder (default target).
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=${1:-/tmp/aipolicy-text-corpus}
seconds=${2:-10}
slices=${3:-5}
python=${PRESIDIO_PYTHON:-/tmp/presidio/bin/python}
target=${CARGO_TARGET_DIR:-target}
rate="$target/release/examples/text_rate"
aipolicy="$target/release/aipolicy"

"$rate" write "$dir"
lscpu | grep -E '^Model name'
# The texts/s (or, for documents, MB/s) of a `rate` line.
figure() {
  if [ "$1" = prompts ]; then grep -o '[0-9.]* texts/s' | cut -d' ' -f1; else grep -o '[0-9.]* MB/s' | cut -d' ' -f1; fi
}
for corpus in prompts documents; do
  unit=$([ "$corpus" = prompts ] && echo texts/s || echo MB/s)
  ratios=() ours=() theirs=()
  for slice in $(seq "$slices"); do
    a=$(taskset -c 0 "$rate" rate "$corpus" "$seconds" | tee /dev/stderr | figure "$corpus")
    p=$(taskset -c 0 "$python" benches/presidio/bench.py rate "$dir" "$corpus" "$seconds" | tee /dev/stderr | figure "$corpus")
    ours+=("$a") theirs+=("$p") ratios+=("$(echo "$a / $p" | bc -l)")
    printf '  turn %s: %.1fx\n' "$slice" "${ratios[-1]}" >&2
  done
  median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
  best() { printf '%s\n' "$@" | sort -g | tail -1; }
  printf '%s, text::find against Presidio, %s turns: median ratio %.1fx (%.1fx to %.1fx); best turns %s against %s %s\n' \
    "$corpus" "$slices" "$(median "${ratios[@]}")" "$(printf '%s\n' "${ratios[@]}" | sort -g | head -1)" \
    "$(best "${ratios[@]}")" "$(best "${ours[@]}")" "$(best "${theirs[@]}")" "$unit"
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
    ours_batch=$([ "$corpus" = prompts ] && echo "$lines / $best" || echo "$bytes / $best / 1000000")
    printf '%s, aipolicy batch against Presidio'"'"'s median turn: %.1fx\n' "$corpus" "$(echo "($ours_batch) / $(median "${theirs[@]}")" | bc -l)"
  fi
done
"$rate" check
"$python" benches/presidio/bench.py check "$dir"
