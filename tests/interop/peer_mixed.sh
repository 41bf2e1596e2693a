#!/usr/bin/env bash
# A mixed swarm through opentracker: a rill seed and a libtorrent seed; rill,
# libtorrent, aria2 and Transmission leeching at once. Every leecher ends
# with exact data. Transmission only accepts connections, so it joins first
# and the others learn its address from the tracker when they start.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib/clients.sh"
need opentracker; need aria2c; need transmission-daemon
"$PY" -c 'import libtorrent' 2>/dev/null || fail "python3-libtorrent is missing for $PY"

size=$((6 * 1024 * 1024 + 321))
mkdir -p "$WORK/src"
gen_file "$WORK/src/payload.bin" "$size" mixed
tport=$(free_port)
"$RILL" create "$WORK/src/payload.bin" --piece-size 64K --no-date \
  --tracker "http://127.0.0.1:$tport/announce" -o "$WORK/t.torrent" >/dev/null || fail "rill create"
hash=$(info_hash "$WORK/t.torrent")
start_opentracker "$WORK/tracker" "$tport" "$hash"

transmission_start "$WORK/tr" "$(free_port)" "$(free_port)" 127.0.0.4
transmission_add "$WORK/t.torrent" "$WORK/trdl"
wait_tracker_count "$TRACKER_URL" "$hash" leechers 1 60

rill_seed rill-seed "$WORK/t.torrent" "$WORK/src" "$(free_port)" --bind 127.0.0.1
lt_seed lt-seed "$WORK/t.torrent" "$WORK/src" "$(free_port)" 127.0.0.2
rill_get rill-leech "$WORK/t.torrent" "$WORK/rill" --port "$(free_port)" --bind 127.0.0.1
lt_leech lt-leech "$WORK/t.torrent" "$WORK/lt" "$(free_port)" 127.0.0.5
aria2_leech aria-leech "$WORK/t.torrent" "$WORK/aria" "$(free_port)" 127.0.0.3

wait_exit rill-leech 120 0
wait_exit lt-leech 120 0
wait_exit aria-leech 120 0
transmission_wait_done 120
for d in rill lt aria trdl; do
  wait_file_equal "$WORK/src/payload.bin" "$WORK/$d/payload.bin" 5
done
pass "mixed swarm (rill + libtorrent seeds; rill, libtorrent, aria2, Transmission leechers): exact data everywhere"
stop_all
