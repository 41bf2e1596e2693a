#!/usr/bin/env bash
# Proves the interop harness (tests/interop/lib) on the real clients alone,
# through Debian's opentracker: a libtorrent seed to an aria2 leech, then an
# aria2 seed to a Transmission leech (Transmission only accepts connections,
# so aria2 has to find it through the tracker and dial it). Each client has
# its own loopback address and must listen on loopback only. rill is used
# only to make the torrent. Bounded: about 15 s when all goes well.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib/clients.sh"
need opentracker; need aria2c; need transmission-daemon; need transmission-remote
"$PY" -c 'import libtorrent' 2>/dev/null || fail "python3-libtorrent is missing for $PY"

size=$((3 * 1024 * 1024 + 12345)) # a short last piece
mkdir -p "$WORK/src"
gen_file "$WORK/src/payload.bin" "$size" selfcheck
tport=$(free_port)
"$RILL" create "$WORK/src/payload.bin" --piece-size 64K --no-date -q \
  --tracker "http://127.0.0.1:$tport/announce" -o "$WORK/t.torrent" >/dev/null || fail "rill create"
hash=$(info_hash "$WORK/t.torrent")
[ ${#hash} -eq 40 ] || fail "no info-hash for the torrent"

start_opentracker "$WORK/tracker" "$tport" "$hash"
check_loopback_only "$TRACKER_NAME"
"$PY" "$HARNESS_PY" probe "$TRACKER_URL" 0000000000000000000000000000000000000000 2>/dev/null &&
  fail "opentracker serves a hash that is not on its whitelist"
pass "opentracker on tcp+udp 127.0.0.1:$tport serves $hash and only the whitelist"

# 1. libtorrent seeds, aria2 leeches: aria2 learns of the seed from the tracker.
lt_seed lt-seed "$WORK/t.torrent" "$WORK/src" "$(free_port)" 127.0.0.2
aria2_leech aria-leech "$WORK/t.torrent" "$WORK/aria" "$(free_port)" 127.0.0.3
check_loopback_only lt-seed aria-leech
wait_exit aria-leech 30 0
wait_file_equal "$WORK/src/payload.bin" "$WORK/aria/payload.bin" 5
stop_proc lt-seed
up=$(last_json lt-seed | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["payload_upload"])')
[ "$up" -ge "$size" ] || fail "libtorrent seed uploaded $up bytes, want >= $size"
pass "libtorrent seed -> aria2 leech: exact data, libtorrent uploaded $up bytes"

# 2. aria2 seeds what it just downloaded; Transmission (the only other peer)
# leeches. The libtorrent seed is gone, so every byte comes from aria2.
transmission_start "$WORK/tr" "$(free_port)" "$(free_port)" 127.0.0.4
transmission_add "$WORK/t.torrent" "$WORK/trdl"
aria2_seed aria-seed "$WORK/t.torrent" "$WORK/aria" "$(free_port)" 127.0.0.5
check_loopback_only tr-tr aria-seed
transmission_wait_done 40
wait_file_equal "$WORK/src/payload.bin" "$WORK/trdl/payload.bin" 10
pass "aria2 seed -> Transmission leech: exact data"

stop_all
pass "every client stopped"
