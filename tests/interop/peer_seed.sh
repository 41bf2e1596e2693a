#!/usr/bin/env bash
# libtorrent, aria2 and Transmission each leech from a rill seed through
# Debian's opentracker and end with exact data. rill dials Transmission,
# which never dials loopback peers, after the tracker names it.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib/clients.sh"
need opentracker; need aria2c; need transmission-daemon
"$PY" -c 'import libtorrent' 2>/dev/null || fail "python3-libtorrent is missing for $PY"

size=$((5 * 1024 * 1024 + 777))
mkdir -p "$WORK/src"
gen_file "$WORK/src/payload.bin" "$size" seed
tport=$(free_port)
"$RILL" create "$WORK/src/payload.bin" --piece-size 64K --no-date \
  --tracker "http://127.0.0.1:$tport/announce" -o "$WORK/t.torrent" >/dev/null || fail "rill create"
start_opentracker "$WORK/tracker" "$tport" "$(info_hash "$WORK/t.torrent")"
rill_seed rill-seed "$WORK/t.torrent" "$WORK/src" "$(free_port)" --bind 127.0.0.1 -v

lt_leech lt-leech "$WORK/t.torrent" "$WORK/lt" "$(free_port)" 127.0.0.2
wait_exit lt-leech 90 0
wait_file_equal "$WORK/src/payload.bin" "$WORK/lt/payload.bin" 5
pass "libtorrent leeched from rill: exact data"

aria2_leech aria-leech "$WORK/t.torrent" "$WORK/aria" "$(free_port)" 127.0.0.3
wait_exit aria-leech 90 0
wait_file_equal "$WORK/src/payload.bin" "$WORK/aria/payload.bin" 5
pass "aria2 leeched from rill: exact data"

# Transmission only accepts connections: the rill seed must learn its
# address from the tracker, so it re-announces (a fresh seed process
# announces at once) after Transmission has announced.
transmission_start "$WORK/tr" "$(free_port)" "$(free_port)" 127.0.0.4
transmission_add "$WORK/t.torrent" "$WORK/trdl"
wait_tracker_count "$TRACKER_URL" "$(info_hash "$WORK/t.torrent")" leechers 1 60
stop_proc rill-seed
rill_seed rill-seed2 "$WORK/t.torrent" "$WORK/src" "$(free_port)" --bind 127.0.0.1 -v
transmission_wait_done 120
wait_file_equal "$WORK/src/payload.bin" "$WORK/trdl/payload.bin" 5
pass "Transmission leeched from rill: exact data"
stop_all
