#!/usr/bin/env bash
# rill sim: the simulator's report, its determinism, its agreement with a
# real swarm of the same setup (within 10% on D, as issue 5 asks), a sweep in
# both modes, and the ablation report's tit-for-tat claim.
. "$(dirname "$0")/../lib/common.sh"

cfg=(--peers 8 --size 16M --seed-up 4M --up 1M --down 8M)

run sim "${cfg[@]}" --json -q
expect_rc 0 sim
first=$out
json_check 'assert d["engine"] == "sim" and d["mode"] == "p2p" and d["peers"] == 8
assert len(d["completions"]) == 8
assert all(c["seconds"] is not None and c["downloaded"] >= 16 << 20 for c in d["completions"])
assert 1.0 <= d["ratio"] < 1.3, d["ratio"]'
run sim "${cfg[@]}" --json -q
"$PY" - "$first" "$out" <<'PYEOF' || fail "two runs of one config differ"
import json, sys
a, b = (json.loads(x) for x in sys.argv[1:3])
a.pop("wall_s"); b.pop("wall_s")
assert a == b
PYEOF
pass "sim report, deterministic"

run swarm "${cfg[@]}" --json -q
expect_rc 0 swarm
"$PY" - "$first" "$out" <<'PYEOF' || fail "sim and swarm disagree by more than 10%"
import json, sys
sim, real = (json.loads(x) for x in sys.argv[1:3])
d_sim, d_real = sim["distribution_time_s"], real["distribution_time_s"]
print("D: sim %.2f s, swarm %.2f s, bound %.2f s" % (d_sim, d_real, sim["bound_s"]))
assert abs(d_sim - d_real) <= 0.10 * d_real, (d_sim, d_real)
PYEOF
pass "sim agrees with a real swarm"

run sim --sweep 4,16,64 --size 16M --seed-up 4M --up 1M --down 8M --json --svg "$T/sweep.svg" -q
expect_rc 0 sim --sweep
json_check 'pts = d["sweep"]
assert [(p["peers"], p["mode"]) for p in pts] == [(4, "p2p"), (4, "client-server"), (16, "p2p"), (16, "client-server"), (64, "p2p"), (64, "client-server")]
for p in pts:
    assert 0.9 < p["ratio"] < 1.4, p
cs = [p["distribution_time_s"] for p in pts if p["mode"] == "client-server"]
p2p = [p["distribution_time_s"] for p in pts if p["mode"] == "p2p"]
assert cs[2] > 10 * cs[0] and p2p[2] < 3 * p2p[0], (cs, p2p)'
grep -q "measured, p2p" "$T/sweep.svg" || fail "no sweep chart"
pass "sweep: client-server grows with N, p2p barely"

run sim --peers 200 --size 16M --seed-up 2M --up 1M --down 8M --arrivals poisson --gap 0.1 \
    --free-riders 20% --ablations --json -q
expect_rc 0 sim --ablations
json_check 'rows = {r["variant"]: r for r in d["ablations"]}
assert len(rows) == 7
base = rows["as given"]
# Tit-for-tat: free-riders take longer than contributors.
assert base["free_riders_mean_s"] > base["contributors_mean_s"], base'
pass "ablations: tit-for-tat makes free-riders wait"

run sim --peers 0
expect_rc 2 sim --peers 0
