#!/usr/bin/env bash
# Trackerless interop on loopback: a magnet link (info-hash only: no name, no
# tracker, no peer) given to one client finds a seed of another client
# through the DHT alone, fetches the metadata (ut_metadata, more than one
# 16 KiB block of it) and completes with exact data, in every direction:
#   - a `rill dht` node on 127.0.0.1 is everyone's only bootstrap node;
#   - libtorrent seeds, rill gets (and saves DIR/NAME.torrent);
#   - rill seeds, libtorrent (its DHT set to accept loopback nodes) gets;
#   - rill seeds, rill gets; then a rill leecher that starts before its
#     seed and finds it when the seed announces later;
#   - Transmission: skipped, with the reason checked at run time (below).
# No tracker runs anywhere; every client has its own 127.0.0.x address.
# The libtorrent seed goes first: libtorrent sends announce_peer only once
# its lookup is over, and it waits its full RPC timeout (about 15 s) for
# every dead node it was told of, such as the clients of earlier cases.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib/clients.sh"
"$PY" -c 'import libtorrent' 2>/dev/null || fail "python3-libtorrent is missing for $PY"

size=$((20 * 1024 * 1024 + 4321)) # 1281 pieces of 16 KiB: 25 KiB of metadata
CASE_T=45                           # seconds each transfer may take, at most

# content KIND: a file and a trackerless torrent of its own for one case
# (distinct info-hashes, so no case finds the peers of another); sets SRC,
# TOR, HASH and MAG.
content() {
  local dir=$WORK/$1
  mkdir -p "$dir/src"
  gen_file "$dir/src/payload.bin" "$size" "magnet-dht-$1"
  "$RILL" create "$dir/src/payload.bin" --piece-size 16K --no-date -o "$dir/t.torrent" \
    >/dev/null || fail "rill create"
  SRC=$dir/src/payload.bin TOR=$dir/t.torrent HASH=$(info_hash "$dir/t.torrent")
  MAG=$(magnet_of "$TOR")
  "$RILL" info --json "$TOR" | grep -q '"trackers": \[\]' || fail "$TOR names a tracker"
}

# torrent_hash_is FILE: FILE is a .torrent whose info-hash is $HASH (rill info).
torrent_hash_is() {
  [ -f "$1" ] || fail "no metadata saved as $1"
  local got
  got=$("$RILL" info --json "$1" | sed -n 's/^ *"info_hash": "\([0-9a-f]*\)".*/\1/p')
  [ "$got" = "$HASH" ] || fail "$1: info-hash ${got:-unreadable}, want $HASH"
}

elapsed() { printf '%.1f' "$(bc <<<"$EPOCHREALTIME - $1")"; }
took() { echo "(seed announced in $(elapsed "$t0") s, leecher done in $(elapsed "$t1") s)"; }

# announced N: wait until the bootstrap node stores peers for N torrents,
# i.e. until the seed of the Nth case has announced itself (its stats line
# comes every second). Then the leecher's first lookup can find the seed:
# the case tests the leecher's lookup, not a race (the leecher-first case
# tests the later lookups). A probe with `rill dht get-peers` would leave a
# dead node behind in everyone's routing table, slowing every later lookup.
announced() {
  wait_log dht-node "storing $1 torrents" 30 "the seed's announce (torrent $1)"
}

# dialer LOG PEER_ADDR: "dialed" or "was dialed by", from a rill -v log.
dialer() {
  if grep -q "$2:[0-9]* .*connected (outgoing)" "$1"; then
    echo "dialed"
  else
    echo "was dialed by"
  fi
}

# ---- The bootstrap node. It bootstraps from a port nobody listens on:
# without a --bootstrap it would try the well-known routers on the Internet.
node_port=$(free_port)
rill_dht_node dht-node 127.0.0.1 "$node_port" --bootstrap "127.0.0.1:$(free_port)" \
  --stats-every 1s
BOOT=127.0.0.1:$node_port
check_loopback_only dht-node
pass "rill dht node on udp $BOOT"

# ---- libtorrent seeds, rill gets the magnet.
content lt2rill
t0=$EPOCHREALTIME
lt_seed lt-seed "$TOR" "$(dirname "$SRC")" "$(free_port)" 127.0.0.2 --dht-bootstrap "$BOOT"
announced 1
t1=$EPOCHREALTIME
rill_get_dht rill-get-lt "$MAG" "$WORK/lt2rill/rill" "$(free_port)" 127.0.0.3 "$BOOT" -v
wait_exit rill-get-lt "$CASE_T" 0
wait_file_equal "$SRC" "$WORK/lt2rill/rill/payload.bin" 5
torrent_hash_is "$WORK/lt2rill/rill/payload.bin.torrent"
"$RILL" verify "$WORK/lt2rill/rill/payload.bin.torrent" "$WORK/lt2rill/rill" >/dev/null ||
  fail "rill verify of the saved .torrent against the download"
stop_proc lt-seed
pass "libtorrent seed -> rill magnet via the DHT: metadata, .torrent and $size exact bytes" \
  "$(took); rill $(dialer "${HLOG[rill-get-lt]}" 127.0.0.2) the seed"

# ---- rill seeds, libtorrent gets the magnet.
content rill2lt
t0=$EPOCHREALTIME
rill_seed_dht rill-seed-lt "$TOR" "$(dirname "$SRC")" "$(free_port)" 127.0.0.4 "$BOOT" -v
announced 2
t1=$EPOCHREALTIME
lt_magnet lt-get "$MAG" "$WORK/rill2lt/lt" "$(free_port)" 127.0.0.5 "$BOOT"
wait_exit lt-get "$CASE_T" 0
wait_file_equal "$SRC" "$WORK/rill2lt/lt/payload.bin" 5
torrent_hash_is "$WORK/rill2lt/lt.torrent"
# They met through the DHT, the only way either could learn of the other:
# libtorrent dialed the seed it found there ("dht"), or the seed dialed
# libtorrent, which it found there too ("incoming" from the seed's address).
"$PY" - "$(last_json lt-get)" 127.0.0.4 <<'EOF' ||
import json, sys
d = json.loads(sys.argv[1])
assert d["metadata_seconds"] is not None, "no metadata"
srcs = [s for peer, s in d["dht"]["peer_sources"].items() if peer.split(":")[0] == sys.argv[2]]
assert any("dht" in s or "incoming" in s for s in srcs), d["dht"]["peer_sources"]
print("libtorrent's peers and how it learned of them:", d["dht"]["peer_sources"])
EOF
  fail "libtorrent never met the rill seed: $(last_json lt-get)"
check_loopback_only rill-seed-lt
stop_proc rill-seed-lt
pass "rill seed -> libtorrent magnet via the DHT: metadata and $size exact bytes $(took)"

# ---- rill to rill, seed first.
content rill2rill
t0=$EPOCHREALTIME
rill_seed_dht rill-seed "$TOR" "$(dirname "$SRC")" "$(free_port)" 127.0.0.6 "$BOOT" -v
announced 3
t1=$EPOCHREALTIME
rill_get_dht rill-get "$MAG" "$WORK/rill2rill/rill" "$(free_port)" 127.0.0.7 "$BOOT" -v
wait_exit rill-get "$CASE_T" 0
wait_file_equal "$SRC" "$WORK/rill2rill/rill/payload.bin" 5
torrent_hash_is "$WORK/rill2rill/rill/payload.bin.torrent"
stop_proc rill-seed
pass "rill seed -> rill magnet via the DHT: $size exact bytes $(took);" \
  "the leecher $(dialer "${HLOG[rill-get]}" 127.0.0.6) the seed"

# ---- rill to rill, leecher first: its first lookup finds nobody; a later
# one of its own, or the seed's first announce lookup, must bring them
# together (rill looks again every 10 s while it has no peer).
content rill2rill-late
t0=$EPOCHREALTIME
rill_get_dht rill-get-late "$MAG" "$WORK/rill2rill-late/rill" "$(free_port)" 127.0.0.8 \
  "$BOOT" -v
announced 4 # the leecher's own announce
sleep 1
rill_seed_dht rill-seed-late "$TOR" "$(dirname "$SRC")" "$(free_port)" 127.0.0.9 "$BOOT" -v
wait_exit rill-get-late "$CASE_T" 0
wait_file_equal "$SRC" "$WORK/rill2rill-late/rill/payload.bin" 5
stop_proc rill-seed-late
pass "rill magnet started before its seed: done in $(elapsed "$t0") s;" \
  "the leecher $(dialer "${HLOG[rill-get-late]}" 127.0.0.9) the seed"

# ---- Transmission (3.00) cannot take part in a loopback DHT swarm:
#  - its DHT (Juliusz Chroboczek's dht.c, bundled) drops every packet from
#    a "martian" source, and is_martian() counts 127.0.0.0/8 as one: the
#    replies of loopback nodes never reach its routing table;
#  - it announces to the DHT only with at least 4 good nodes (tr-dht.c,
#    tr_dhtAnnounce needs TR_DHT_POOR), and never gets there;
#  - peers at 127.x it would learn anyway are refused as peers
#    (tr_address_is_valid_for_peers, isMartianAddr in net.c): that is why
#    it never dials loopback peers from a tracker either.
# The probe below shows the first point on the installed daemon: its DHT
# pings our node, which answers, and the reply ("Pong!" in its DHT log) is
# never processed.
if ! command -v transmission-daemon >/dev/null; then
  echo "SKIP: Transmission cases (transmission-daemon is not installed)"
else
  probe_port=$(free_port)
  rill_dht_node dht-probe 127.0.0.1 "$probe_port" --bootstrap "127.0.0.1:$(free_port)" \
    --stats-every 1s
  mkdir -p "$WORK/tr"
  echo "127.0.0.1 $probe_port" >"$WORK/tr/dht.bootstrap"
  TR_DHT_ENABLED=true TR_DHT_VERBOSE=1 \
    transmission_start "$WORK/tr" "$(free_port)" "$(free_port)" 127.0.0.10
  # Its bootstrap thread reads dht.bootstrap at once (it has no dht.dat).
  wait_log tr-tr 'Sending ping' 15 "a DHT ping"
  wait_log dht-probe 'queries in [1-9]' 10 "Transmission's ping reaching the node"
  sleep 3 # the node's reply has long arrived
  transmission_stop
  stop_proc dht-probe
  if grep -q 'Pong!' "${HLOG[tr-tr]}"; then
    echo "SKIP: Transmission's DHT now accepts a loopback node's reply, but this test" \
      "has no Transmission transfer case yet (it would still refuse 127.x peers)"
  else
    echo "SKIP: Transmission <-> rill/libtorrent through the DHT: its DHT drops the" \
      "replies of 127.x nodes as martian (our node got its ping, it never saw the pong)," \
      "and it refuses 127.x peers; a loopback DHT swarm cannot include it"
  fi
fi

stop_all
