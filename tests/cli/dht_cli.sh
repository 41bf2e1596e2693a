#!/usr/bin/env bash
# rill dht from the command line: usage errors, then a small DHT on
# loopback: two running nodes (IPv4 and IPv6), a one-shot announce and
# get-peers in both families, --json, stats, a state file that keeps the
# id across runs, a bootstrap node that never answers, and SIGTERM ending a
# node with status 0 and its state written.
. "$(dirname "$0")/../lib/common.sh"
export HOME="$T/home" XDG_STATE_HOME=
IH=0123456789abcdef0123456789abcdef01234567

run dht --help
expect_rc 0 dht --help
has "$out" "Usage: rill dht"
has "$out" "get-peers INFOHASH"
for bad in "frobnicate" "get-peers" "get-peers xyz" "announce $IH" "announce $IH 70000" \
  "stats extra" "--ipv4-only --ipv6-only" "--bootstrap nohost" "--port -1" "--timeout 0" \
  "--state a --no-state"; do
  # shellcheck disable=SC2086
  run dht $bad
  expect_rc 2 dht $bad
done
run dht get-peers "$IH&tr=x"
expect_rc 2 "a bare hash with more after it"

# Two nodes; each logs its port.
start_node() { # NAME ARGS...
  local name=$1
  shift
  "$RILL" dht --port 0 --bind 127.0.0.1 --bind6 ::1 --stats-every 1s "$@" \
    >"$T/$name.out" 2>"$T/$name.log" &
  track_pid $!
  eval "${name}_pid=$!"
  for _ in $(seq 50); do grep -qs "DHT node on UDP port" "$T/$name.log" && break; sleep 0.1; done
  eval "${name}_port=$(sed -n 's/.*DHT node on UDP port \([0-9]*\).*/\1/p' "$T/$name.log")"
}
start_node a --state "$T/a.state"
[ -n "$a_port" ] || fail "no port in the log: $(cat "$T/a.log")"
start_node b --no-state -b "127.0.0.1:$a_port" -b "[::1]:$a_port"
for _ in $(seq 50); do grep -q "joined in" "$T/b.log" && break; sleep 0.1; done
has "$(cat "$T/b.log")" "joined in"

one=(--no-state --bind 127.0.0.1 --bind6 ::1 -b "127.0.0.1:$b_port" -b "[::1]:$b_port" --timeout 10s)
run dht announce "$IH" 6881 "${one[@]}"
expect_rc 0 dht announce
has "$err" "announced to 4 nodes" # two nodes, in each family
run dht get-peers "$IH" "${one[@]}"
expect_rc 0 dht get-peers
has "$out" "127.0.0.1:6881"
has "$out" "[::1]:6881" || { cat "$T"/*.log; exit 1; }
run dht get-peers "magnet:?xt=urn:btih:$IH&dn=x" "${one[@]}" --json
expect_rc 0 dht get-peers --json
json_check "assert d['info_hash'] == '$IH'
assert sorted(d['peers']) == ['127.0.0.1:6881', '[::1]:6881'], d
assert d['hops'] >= 0 and d['elapsed_ms'] < 10000"
run dht get-peers ffffffffffffffffffffffffffffffffffffffff "${one[@]}" -q
expect_rc 1 "get-peers of a hash nobody announced"
[ -z "$out" ] || fail "peers for an unknown hash: $out"

run dht stats "${one[@]}" --json
expect_rc 0 dht stats
json_check "assert d['ipv4']['nodes'] >= 2 and d['ipv6']['nodes'] >= 2, d
assert d['size_estimate'] > 0
assert d['replies_in'] >= 2"
run dht stats "${one[@]}"
has "$out" "node id:"
has "$out" "DHT size:"

# BEP 44 items: BEP 44's own immutable example, then a mutable item.
run dht put "Hello World!" "${one[@]}"
expect_rc 0 dht put
[ "$out" = e5f96f6f38320f0f33959cb4d3d656452117aadb ] || fail "immutable target: $out"
run dht get e5f96f6f38320f0f33959cb4d3d656452117aadb "${one[@]}"
expect_rc 0 dht get
[ "$out" = "Hello World!" ] || fail "immutable get: $out"
run dht put --bencoded 'li1ei2ee' "${one[@]}" --json
expect_rc 0 "dht put --bencoded"
json_check "assert d['bencoded'] == 'li1ei2ee' and d['stored'] >= 2 and not d['mutable']"
run dht put --key "$T/k" --salt s1 first "${one[@]}" --json
expect_rc 0 "dht put --key (new key)"
has "$err" "made a new key"
[ "$(stat -c %a "$T/k")" = 600 ] || fail "the key file is not private"
json_check "assert d['seq'] == 1 and d['string'] == 'first' and d['mutable']"
target=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["target"])' "$T/out")
run dht put --key "$T/k" --salt s1 second "${one[@]}" --json
json_check "assert d['seq'] == 2 and d['target'] == '$target'"
run dht put --key "$T/k" --salt s1 second "${one[@]}" --json
json_check "assert d['seq'] == 2, 'the same value again renews its version'"
run dht get "$target" --salt s1 "${one[@]}"
expect_rc 0 "dht get (mutable)"
[ "$out" = second ] || fail "mutable get: $out"
run dht put --key "$T/k" --salt s1 --seq 1 old "${one[@]}"
expect_rc 1 "a put older than the stored version"
has "$err" "newer version"
run dht get "$target" --salt other "${one[@]}"
expect_rc 1 "a get with the wrong salt"
echo "not a key" >"$T/badkey"
run dht put --key "$T/badkey" x "${one[@]}"
expect_rc 3 "a bad key file"
run dht put --bencoded 'not bencode' "${one[@]}"
expect_rc 2 "put of bad bencode"
run dht put --salt s x "${one[@]}"
expect_rc 2 "--salt without --key"
run dht get nothex "${one[@]}"
expect_rc 2 "get of a bad target"

# The state file keeps the id: two runs, one id.
st=(--state "$T/one.state" --bind 127.0.0.1 -4 -b "127.0.0.1:$a_port" --timeout 10s --json)
run dht stats "${st[@]}"
expect_rc 0 "stats with a state file"
id1=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["node_id"])' "$T/out")
run dht stats "${st[@]}"
id2=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["node_id"])' "$T/out")
[ "$id1" = "$id2" ] || fail "the state file did not keep the id: $id1 then $id2"
# Without --state the default file goes under $HOME.
run dht stats --bind 127.0.0.1 -4 -b "127.0.0.1:$a_port" --timeout 10s
expect_rc 0 "stats with the default state file"
[ -s "$HOME/.local/state/rill/dht.state" ] || fail "no default state file"
# A file that is not a state file is refused and kept.
echo garbage >"$T/bad.state"
run dht stats --state "$T/bad.state" --bind 127.0.0.1 -4 -b "127.0.0.1:$a_port"
expect_rc 4 "a foreign state file"
[ "$(cat "$T/bad.state")" = garbage ] || fail "the foreign state file was overwritten"

# A bootstrap node that never answers: exit 4 after the 2 s ping timeout.
run dht get-peers "$IH" --no-state --bind 127.0.0.1 -4 -b 127.0.0.1:9 --timeout 10s
expect_rc 4 "no bootstrap node"
has "$err" "could not join the DHT"

# SIGTERM: status 0, a summary, the state written.
kill -TERM "$a_pid"
set +e
wait "$a_pid"
arc=$?
set -e
[ "$arc" -eq 0 ] || fail "node a exited $arc on SIGTERM"
has "$(cat "$T/a.log")" "stopping"
[ -s "$T/a.state" ] || fail "node a wrote no state file"
pass "rill dht"
