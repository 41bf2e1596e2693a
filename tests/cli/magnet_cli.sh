#!/usr/bin/env bash
# rill get with magnet links: from a seed named in the magnet (x.pe), with
# --save-torrent and --json-log; trackerless through a loopback DHT (a
# `rill dht` node as the bootstrap, the seed announcing itself there); and
# a magnet nobody serves, stopped by SIGTERM with status 1.
. "$(dirname "$0")/../lib/common.sh"

mkdir -p "$T/src"
gen_file "$T/src/payload.bin" $((3 * 1024 * 1024 + 777)) magnet
"$RILL" create "$T/src/payload.bin" --piece-size 32K --no-date -o "$T/t.torrent" >/dev/null
IH=$("$RILL" info "$T/t.torrent" --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["info_hash"])')

wait_line() { # FILE TEXT: up to 10 s
  for _ in $(seq 100); do grep -qs "$2" "$1" && return 0; sleep 0.1; done
  fail "no '$2' in $1: $(cat "$1" 2>/dev/null)"
}

# A seed on 127.0.0.1, no DHT: the magnet names it.
"$RILL" seed "$T/t.torrent" "$T/src" --bind 127.0.0.1 --port 0 --no-dht --no-lsd --json-log >"$T/seed.out" 2>&1 &
track_pid $!
wait_line "$T/seed.out" '"event": "started"'
sport=$("$PY" -c 'import json,sys
for l in open(sys.argv[1]):
    if l.startswith("{") and json.loads(l).get("event") == "started": print(json.loads(l)["port"]); break' "$T/seed.out")

run get "magnet:?xt=urn:btih:$IH&dn=whatever&x.pe=127.0.0.1:$sport" -o "$T/a" --bind 127.0.0.1 \
  --port 0 --no-dht --no-lsd --json-log
expect_rc 0 get magnet x.pe
cmp -s "$T/src/payload.bin" "$T/a/payload.bin" || fail "magnet download differs"
[ -s "$T/a/payload.bin.torrent" ] || fail "no .torrent beside the data"
[ "$("$RILL" info "$T/a/payload.bin.torrent" --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["info_hash"])')" = "$IH" ] ||
  fail "the saved .torrent has another info-hash"
has "$out" '"event": "metadata"'
has "$out" '"magnet": true'
pass "magnet with x.pe: metadata, .torrent saved, exact data"

run get "magnet:?xt=urn:btih:$IH&x.pe=127.0.0.1:$sport" -o "$T/b" --save-torrent "$T/saved/x.torrent" \
  --bind 127.0.0.1 --port 0 --no-dht --no-lsd -q
expect_rc 0 "get magnet --save-torrent"
[ -s "$T/saved/x.torrent" ] || fail "--save-torrent wrote nothing"
[ ! -e "$T/b/payload.bin.torrent" ] || fail "--save-torrent also wrote beside the data"
cmp -s "$T/src/payload.bin" "$T/b/payload.bin" || fail "second magnet download differs"
pass "--save-torrent"

# Liars, each beside an honest seed that starts a moment later (so the liar
# is asked first): a peer offering metadata that does not hash to the
# info-hash is banned and the metadata comes from the seed; one that also
# claims a wrong size made the fetch start with that size, which starts
# over with the honest size once it is banned.
EVIL=$(dirname "$0")/../tools/evil_peer.py
free_port_on() { "$PY" -c 'import socket,sys; s=socket.socket(); s.bind((sys.argv[1], 0)); print(s.getsockname()[1])' "$1"; }
beside_liar() { # MODE ADDR NAME: runs rill get beside the liar, output in $out
  local mode=$1 addr=$2 name=$3 hport
  eport=$(free_port_on "$addr")
  "$PY" "$EVIL" --torrent "$T/t.torrent" --data "$T/src" --mode "$mode" --bind "$addr" \
    --listen "$eport" --timeout 60 >"$T/$name.evil" 2>&1 &
  track_pid $!
  wait_line "$T/$name.evil" "" # it is listening
  hport=$(free_port_on 127.0.0.1)
  ( sleep 1.5; exec "$RILL" seed "$T/t.torrent" "$T/src" --bind 127.0.0.1 --port "$hport" --no-dht --no-lsd -q ) &
  track_pid $!
  run get "magnet:?xt=urn:btih:$IH&x.pe=$addr:$eport&x.pe=127.0.0.1:$hport" -o "$T/$name" \
    --bind 127.0.0.1 --port 0 --no-dht --no-lsd --json-log -v
  expect_rc 0 "get magnet beside a $mode liar"
  cmp -s "$T/src/payload.bin" "$T/$name/payload.bin" || fail "download beside a $mode liar differs"
  has "$out" "sent metadata that does not match the info-hash"
  has "$out" "$addr:$eport"
  grep -q "sent metadata piece 0 with wrong bytes" "$T/$name.evil" || fail "the $mode liar was never asked"
}
beside_liar badmeta 127.0.0.9 liar
pass "a metadata liar is banned; the metadata comes from the honest seed"
beside_liar badsize 127.0.0.10 liar2
has "$out" "bytes of metadata instead"
pass "a liar about the metadata size is banned; the fetch starts over with the honest size"

# Trackerless: a DHT on loopback, the seed announces there, the magnet has
# nothing but the info-hash.
"$RILL" dht --no-state --bind 127.0.0.1 -4 --port 0 >"$T/dht.out" 2>"$T/dht.log" &
track_pid $!
wait_line "$T/dht.log" "DHT node on UDP port"
dport=$(sed -n 's/.*DHT node on UDP port \([0-9]*\).*/\1/p' "$T/dht.log")
"$RILL" seed "$T/t.torrent" "$T/src" --bind 127.0.0.1 --port 0 --dht-port 0 --no-trackers --no-lsd \
  --bootstrap "127.0.0.1:$dport" -q >/dev/null 2>&1 &
track_pid $!
run get "magnet:?xt=urn:btih:$IH" -o "$T/c" --bind 127.0.0.1 --port 0 --dht-port 0 \
  --bootstrap "127.0.0.1:$dport" --no-lsd --json-log
expect_rc 0 "get magnet through the DHT"
cmp -s "$T/src/payload.bin" "$T/c/payload.bin" || fail "DHT magnet download differs"
pass "trackerless magnet through the DHT"

# Nobody serves it: the status says metadata; SIGTERM ends it with 1.
"$RILL" get "magnet:?xt=urn:btih:ffffffffffffffffffffffffffffffffffffffff" -o "$T/d" --bind 127.0.0.1 \
  --port 0 --no-dht --no-lsd --json-log >"$T/d.out" 2>"$T/d.err" &
pid=$!
track_pid $pid
wait_line "$T/d.out" '"state": "metadata"'
kill -TERM $pid
set +e
wait $pid
drc=$?
set -e
[ "$drc" -eq 1 ] || fail "a stopped magnet exited $drc, want 1"
[ ! -e "$T/d/ffffffffffffffffffffffffffffffffffffffff.torrent" ] || fail "a .torrent without metadata"
pass "an unserved magnet stops cleanly"
