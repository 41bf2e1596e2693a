#!/usr/bin/env bash
# rill model: the textbook example as a table, as JSON and as an SVG; peer
# classes; usage errors.
. "$(dirname "$0")/../lib/common.sh"

run model --textbook
expect_rc 0 model --textbook
has "$out" "client-server s"
# N = 30: client-server 3 hours, P2P three quarters of one.
has "$out" "      30          10800.0           2700.0       4.00"

run model --peers 4,8 --json
expect_rc 0 model --json
json_check 'assert [r["peers"] for r in d["rows"]] == [4, 8]
assert abs(d["rows"][0]["client_server_s"] - 409.6) < 1e-6
assert d["rows"][1]["p2p_s"] < d["rows"][1]["client_server_s"]'

run model --textbook --svg "$T/book.svg"
expect_rc 0 model --svg
"$PY" - "$T/book.svg" <<'PYEOF' || fail "the SVG is not the textbook figure"
import sys, xml.etree.ElementTree as ET
ns = "{http://www.w3.org/2000/svg}"
root = ET.parse(sys.argv[1]).getroot()
lines = root.findall(ns + "polyline")
assert len(lines) == 2, lines
texts = [t.text for t in root.findall(ns + "text")]
assert "hours" in texts and "N (peers)" in texts, texts
# P2P (the second line) stays under one hour: client-server reaches one
# hour at N = 10 (6 minutes a peer), its 11th point; P2P is below that height.
cs = [float(p.split(",")[1]) for p in lines[0].get("points").split()]
p2p = [float(p.split(",")[1]) for p in lines[1].get("points").split()]
assert len(cs) == 36 and len(p2p) == 36
assert all(y > cs[10] for y in p2p), (cs[10], min(p2p))
PYEOF

run model --classes '20%:up=8M,down=32M;80%:up=1M,down=8M' --peers 10
expect_rc 0 model --classes
has "$out" "(share 20)"
has "$out" "(share 80)"

run model --peers 5-2
expect_rc 2 model --peers 5-2
has "$err" "invalid --peers"
run model --classes 'half:up=1M'
expect_rc 2 model --classes bad
run model --server-up 0
expect_rc 2 model --server-up 0
run model --svg /nonexistent/dir/x.svg --peers 3
expect_rc 4 model --svg unwritable
pass "rill model: textbook table, JSON, SVG, classes, usage errors"
