#!/usr/bin/env bash
# rill tracker as the only tracker of two swarms, one announced over HTTP
# and one over UDP: a libtorrent seed, and Transmission, aria2, libtorrent
# and rill leechers that find each other only through it. Every leecher
# ends with exact data, and the tracker counts them as seeders at the end.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib/clients.sh"
need aria2c; need transmission-daemon
"$PY" -c 'import libtorrent' 2>/dev/null || fail "python3-libtorrent is missing for $PY"

tport=$(free_port)
spawn rill-tracker "$RILL" tracker --http "127.0.0.1:$tport" --udp "127.0.0.1:$tport" \
  --interval 1m
wait_for_port 127.0.0.1 "$tport" 10 tcp rill-tracker
wait_for_port 127.0.0.1 "$tport" 10 udp rill-tracker
http_url=http://127.0.0.1:$tport/announce
udp_url=udp://127.0.0.1:$tport/announce

# swarm KIND URL N: one transfer among five clients announcing to URL.
swarm() {
  local kind=$1 url=$2 n=$3 size=$((3 * 1024 * 1024 + 4567)) dir=$WORK/$1
  mkdir -p "$dir/src"
  gen_file "$dir/src/payload.bin" "$size" "tracker-$kind"
  "$RILL" create "$dir/src/payload.bin" --piece-size 64K --no-date --tracker "$url" \
    -o "$dir/t.torrent" >/dev/null || fail "rill create"
  local hash; hash=$(info_hash "$dir/t.torrent")

  # Transmission only accepts connections on loopback: it announces first.
  transmission_start "$dir/tr-$kind" "$(free_port)" "$(free_port)" "127.0.0.$((n + 1))"
  transmission_add "$dir/t.torrent" "$dir/trdl"
  wait_tracker_count "$http_url" "$hash" leechers 1 60

  lt_seed "lt-seed-$kind" "$dir/t.torrent" "$dir/src" "$(free_port)" "127.0.0.$((n + 2))"
  rill_get "rill-$kind" "$dir/t.torrent" "$dir/rill" --port "$(free_port)" \
    --bind "127.0.0.$((n + 3))"
  lt_leech "lt-leech-$kind" "$dir/t.torrent" "$dir/lt" "$(free_port)" "127.0.0.$((n + 4))"
  # aria2 speaks UDP to trackers through its DHT socket only: DHT on, with
  # no nodes to ask and bound to loopback (checked).
  local aria_extra=()
  [ "$kind" = udp ] && aria_extra=(--enable-dht=true --dht-listen-port="$(free_port)"
    --dht-file-path="$dir/dht.dat")
  aria2_leech "aria-$kind" "$dir/t.torrent" "$dir/aria" "$(free_port)" "127.0.0.$((n + 5))" \
    "${aria_extra[@]}"
  check_loopback_only "aria-$kind"

  wait_exit "rill-$kind" 120 0
  wait_exit "lt-leech-$kind" 120 0
  wait_exit "aria-$kind" 120 0
  transmission_wait_done 120
  local d
  for d in rill lt aria trdl; do
    wait_file_equal "$dir/src/payload.bin" "$dir/$d/payload.bin" 5
  done
  # The libtorrent seed and Transmission (done, still seeding) are seeders.
  wait_tracker_count "$http_url" "$hash" seeders 2 30
  transmission_stop
  stop_proc "lt-seed-$kind"
  pass "$kind: libtorrent seed; Transmission, rill, libtorrent and aria2 leechers found each other through rill tracker"
}

swarm http "$http_url" 10
swarm udp "$udp_url" 20

stats=$(curl -s "http://127.0.0.1:$tport/stats" 2>/dev/null ||
  "$PY" -c "import urllib.request,sys; print(urllib.request.urlopen(sys.argv[1]).read().decode())" \
    "http://127.0.0.1:$tport/stats")
echo "tracker stats: $stats"
case $stats in *'"torrents": 2'*) ;; *) fail "/stats does not count two torrents: $stats" ;; esac
stop_all
