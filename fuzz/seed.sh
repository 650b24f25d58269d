#!/usr/bin/env bash
# Copies the repository's real inputs into fuzz/corpus/<target>/ as seeds (the corpus folder is
# git-ignored). Run from anywhere; safe to run again (it only adds files).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
corpus="$here/corpus"
mkdir -p "$corpus"/{query_json,register_yaml,scenario_yaml,decide}

# register_yaml: the bundled register and the test fixtures.
cp "$root"/examples/askersund/register.yaml "$corpus/register_yaml/askersund-register.yaml"
for f in "$root"/tests/fixtures/*.yaml; do cp "$f" "$corpus/register_yaml/fixture-$(basename "$f")"; done

# scenario_yaml: the scenario suite.
for f in "$root"/tests/scenarios/*.yaml; do cp "$f" "$corpus/scenario_yaml/$(basename "$f")"; done

# query_json: hand-written queries (README, every action and context flag, the edges)...
i=0
while IFS= read -r line; do
  [ -n "$line" ] || continue
  i=$((i + 1))
  printf '%s' "$line" > "$corpus/query_json/seed-$i.json"
done <<'JSON'
{"user": "anna", "ai": "copilot-chat", "data": ["intern"], "action": "use", "context": {"humanReview": true}}
{"user": {"id": "anna", "roles": ["employee"], "unit": "Socialförvaltningen"}, "ai": "copilot-chat", "data": "intern"}
{"user": "anna", "ai": "chatgpt", "data": "oppen"}
{"user": "anna", "ai": "chatgpt", "data": "intern"}
{"user": {"id": "t", "roles": ["employee", "contractor", "elected"]}, "ai": "lokal-sprakmodell", "data": ["socialtjanstarende"], "action": "decide", "context": {"humanReview": true}}
{"user": "fredrik", "ai": "invanarchatt", "data": "oppen", "action": "publish", "context": {"humanReviewed": true, "aiDisclosure": true}}
{"user": "eva", "ai": "bygglovsguide", "action": "offerToResidents"}
{"user": "bertil", "ai": "bistandspilot", "data": ["personuppgifter", "sekretess"], "action": "develop", "context": {"securityReview": true, "itSecurityReview": true, "dataProtectionReview": true, "valuesReview": true}}
{"user": "gunilla", "ai": "chatgpt", "data": "sakerhetsskydd", "action": "reportIncident"}
{"user": "david", "ai": "x\" || true || \"", "data": ["oppen", "intern", "kansliga-personuppgifter"]}
{"user": {"id": "k", "roles": []}, "ai": "tal-till-text-sot", "data": []}
{"user": "anna", "ai": "copilot-chat", "data": "intern", "extra": 1}
JSON
# ...and, where Python with PyYAML is at hand, every query of the scenario suite.
if python3 -c 'import yaml' 2>/dev/null; then
  python3 - "$root/tests/scenarios" "$corpus/query_json" <<'PY'
import json, pathlib, sys, yaml
src, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
n = 0
for f in sorted(src.glob("*.yaml")):
    for case in (yaml.safe_load(f.read_text()) or {}).get("cases", []):
        n += 1
        (out / f"scenario-{n}.json").write_text(json.dumps(case["query"], ensure_ascii=False))
print(f"query_json: {n} queries from the scenario suite")
PY
fi

# decide: a structured target; its seeds are any bytes (libFuzzer grows them from these).
printf 'anna copilot-chat intern' > "$corpus/decide/seed-1"
printf '\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f' > "$corpus/decide/seed-2"

for t in query_json register_yaml scenario_yaml decide; do
  echo "$t: $(find "$corpus/$t" -type f | wc -l) files"
done
