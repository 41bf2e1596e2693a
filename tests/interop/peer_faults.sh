#!/usr/bin/env bash
# Faults, each beside an honest rill seed: a peer sending corrupt blocks is
# banned and the download completes; peers sending garbage or an oversized
# message are disconnected; a peer vanishing mid-block costs nothing; and a
# leecher killed with -9 at about half resumes and downloads little more
# than what was missing. Hostile peers: tests/tools/evil_peer.py.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib/clients.sh"

size=$((4 * 1024 * 1024 + 999))
piece=65536
mkdir -p "$WORK/src"
gen_file "$WORK/src/payload.bin" "$size" faults
"$RILL" create "$WORK/src/payload.bin" --piece-size 64K --no-date -o "$WORK/t.torrent" >/dev/null ||
  fail "rill create"
seed_port=$(free_port)
rill_seed honest "$WORK/t.torrent" "$WORK/src" "$seed_port" --bind 127.0.0.1

json_field() { # NAME FIELD: a field of the last JSON event of NAME's log
  grep '^{"event"' "${HLOG[$1]}" | tail -n 1 | "$PY" -c "import json,sys; print(json.load(sys.stdin)['$2'])"
}

# get_beside MODE: rill gets from an evil peer (listed first) and the honest
# seed. The evil peer has its own address: rill bans by address.
get_beside() {
  local mode=$1 evil_port; evil_port=$(free_port); shift
  evil_peer "evil-$mode" "$WORK/t.torrent" "$WORK/src" "$evil_port" "$mode" --bind 127.0.0.9 "$@"
  rill_get "get-$mode" "$WORK/t.torrent" "$WORK/get-$mode" --port "$(free_port)" --bind 127.0.0.1 \
    --peer "127.0.0.9:$evil_port" --peer "127.0.0.1:$seed_port" --json-log -v
  wait_exit "get-$mode" 60 0
  wait_file_equal "$WORK/src/payload.bin" "$WORK/get-$mode/payload.bin" 5
}

get_beside corrupt
[ "$(json_field get-corrupt banned)" -eq 1 ] || fail "banned $(json_field get-corrupt banned) addresses, want only the corrupt peer's"
[ "$(json_field get-corrupt hash_failures)" -ge 1 ] || fail "no hash failure was counted"
grep -q "banned" "${HLOG[get-corrupt]}" || fail "no ban in the log"
pass "corrupt blocks: $(json_field get-corrupt hash_failures) pieces failed, the peer was banned, exact data from the honest seed"

for mode in garbage oversized badbitfield sparebits; do
  get_beside "$mode"
  stop_proc "evil-$mode"
  closed=$(last_json "evil-$mode" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["closed_by_peer"])')
  [ "$closed" -ge 1 ] || fail "$mode: rill did not disconnect the hostile peer"
  pass "$mode: rill disconnected the hostile peer and completed from the honest seed"
done

get_beside vanish --honest-blocks 5
pass "a peer vanishing mid-block: the block came from elsewhere, exact data"

# kill -9 at about half (the download limit makes "half" last a while), then
# the same command again.
rill_get killed "$WORK/t.torrent" "$WORK/kill" --port "$(free_port)" --bind 127.0.0.1 \
  --peer "127.0.0.1:$seed_port" --max-down 1M --json-log
for ((i = 0; i < 200; i++)); do
  have=$(json_field killed have 2>/dev/null || echo 0)
  [ "${have:-0}" -ge $((size / 2)) ] && break
  sleep 0.1
done
kill -9 "$(proc_pid killed)" 2>/dev/null || fail "could not kill the leecher"
sleep 0.3
before=$("$RILL" verify "$WORK/t.torrent" "$WORK/kill" --json 2>/dev/null |
  "$PY" -c 'import json,sys; d=json.load(sys.stdin); print(d["good"])') || true
rill_get resumed "$WORK/t.torrent" "$WORK/kill" --port "$(free_port)" --bind 127.0.0.1 \
  --peer "127.0.0.1:$seed_port" --json-log
wait_exit resumed 60 0
wait_file_equal "$WORK/src/payload.bin" "$WORK/kill/payload.bin" 5
got=$(json_field resumed downloaded)
missing=$(( size - before * piece ))
[ "$before" -ge 1 ] || fail "nothing was on disk after the kill at half"
[ "$got" -le $((missing + 4 * piece)) ] ||
  fail "after kill -9 with $before pieces good, the restart downloaded $got bytes for $missing missing"
pass "kill -9 at half: $before pieces survived, the restart downloaded $got bytes for $missing missing"
stop_all
