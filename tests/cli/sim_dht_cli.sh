#!/usr/bin/env bash
# rill sim dht: the tables, JSON that parses, a valid SVG, determinism for a
# seed, and exit 2 for bad options. Small sizes, so it takes seconds.
. "$(dirname "$0")/../lib/common.sh"

small=(--sizes 100,400 --lookups 100 --churn-nodes 200)

run sim dht "${small[@]}"
expect_rc 0 sim dht
has "$out" "Lookup cost"
has "$out" "kademlia"
has "$out" "Joining"
has "$out" "Churn"
has "$out" "took "
pass "sim dht tables"

run sim dht "${small[@]}" --json --svg "$T/dht.svg"
expect_rc 0 sim dht --json
"$PY" -m json.tool "$T/out" >/dev/null || fail "invalid JSON: $out"
json_check 'c = {(r["engine"], r["nodes"]): r for r in d["cost"]}
assert len(c) == 10, c.keys()
assert c[("directory", 400)]["busiest_share"] == 1.0
assert c[("ring", 400)]["hops_mean"] > 50
assert c[("kademlia", 400)]["success"] == 1.0
assert len(d["join"]) == 6 and len(d["churn"]) == 12'
first=$out
"$PY" -c "import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1]).getroot(); assert r.tag.endswith('svg')" "$T/dht.svg" \
  || fail "invalid SVG"
run sim dht "${small[@]}" --json
"$PY" - "$first" "$out" <<'PYEOF' || fail "two runs of one seed differ"
import json, sys
a, b = (json.loads(x) for x in sys.argv[1:3])
a.pop("wall_s"); b.pop("wall_s")
assert a == b
PYEOF
pass "sim dht JSON, SVG, deterministic"

run sim dht --experiment churn --k 4 --churn 0.3 --churn-nodes 100 --lookups 50 --json
expect_rc 0 sim dht --k
json_check 'assert [r.get("k") for r in d["churn"] if r["engine"] == "kademlia"] == [4]'

for bad in "--sizes 10" "--sizes 100,,200" "--sizes abc" "--lookups 0" "--k 9" "--k 0" \
           "--churn 1.5" "--churn -1" "--experiment nope" "--churn-nodes 5" "--seed x" "--bogus" "extra"; do
  # shellcheck disable=SC2086
  run sim dht $bad
  expect_rc 2 sim dht $bad
done
run sim dht --experiment join --svg "$T/x.svg"
expect_rc 2 sim dht --svg without cost
run sim dht --help
expect_rc 0 sim dht --help
has "$out" "--churn"
run sim --help
has "$out" "rill sim dht --help"
pass "sim dht options"
