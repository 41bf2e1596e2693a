#!/usr/bin/env bash
# rill leeches a generated file from a libtorrent seed, an aria2 seed and a
# Transmission seed in turn, each through Debian's opentracker, and ends with
# exact data every time. Transmission never dials loopback peers, so rill
# dials it after learning its address from the tracker.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib/clients.sh"
need opentracker; need aria2c; need transmission-daemon
"$PY" -c 'import libtorrent' 2>/dev/null || fail "python3-libtorrent is missing for $PY"

size=$((5 * 1024 * 1024 + 4321))
mkdir -p "$WORK/src"
gen_file "$WORK/src/payload.bin" "$size" leech
tport=$(free_port)
"$RILL" create "$WORK/src/payload.bin" --piece-size 64K --no-date \
  --tracker "http://127.0.0.1:$tport/announce" -o "$WORK/t.torrent" >/dev/null || fail "rill create"
start_opentracker "$WORK/tracker" "$tport" "$(info_hash "$WORK/t.torrent")"

leech_from() { # LABEL: rill gets into a fresh directory, checks the data
  local dir="$WORK/rill-$1"
  rill_get "rill-$1" "$WORK/t.torrent" "$dir" --port "$(free_port)" --bind 127.0.0.1 -v
  wait_exit "rill-$1" 90 0
  wait_file_equal "$WORK/src/payload.bin" "$dir/payload.bin" 5
  "$RILL" verify "$WORK/t.torrent" "$dir" >/dev/null || fail "rill verify after leeching from $1"
  pass "rill leeched $size bytes from a $1 seed: exact data"
}

lt_seed lt-seed "$WORK/t.torrent" "$WORK/src" "$(free_port)" 127.0.0.2
leech_from libtorrent
stop_proc lt-seed

aria2_seed aria-seed "$WORK/t.torrent" "$WORK/src" "$(free_port)" 127.0.0.3
leech_from aria2
stop_proc aria-seed

# Clients killed above may still be listed as seeders: wait until the
# tracker counts one more, Transmission, before rill asks it for peers.
hash=$(info_hash "$WORK/t.torrent")
read -r seeders _ < <("$PY" "$HARNESS_PY" scrape "$TRACKER_URL" "$hash")
transmission_start "$WORK/tr" "$(free_port)" "$(free_port)" 127.0.0.4
transmission_add "$WORK/t.torrent" "$WORK/src"
transmission_wait_done 60   # it checks the data it was given: a seed
wait_tracker_count "$TRACKER_URL" "$hash" seeders $((seeders + 1)) 60
leech_from Transmission
stop_all
