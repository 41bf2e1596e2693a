#!/usr/bin/env bash
# Trackerless interop with Transmission 3.00 through the DHT, in a network
# namespace of the test's own. On loopback Transmission cannot take part
# (see magnet_dht.sh: its DHT drops every 127.x sender as martian and it
# never dials 127.x peers), so the script re-runs itself under `unshare -n`
# and gives every process its own private address 10.99.0.N there (not
# martian for Transmission; rill exempts private addresses from BEP 42 node
# id checks). Nothing in the namespace can reach any other network.
#   - a `rill dht` node on 10.99.0.1 is everyone's only bootstrap node, and
#     EXTRA more `rill dht` nodes join through it: Transmission announces
#     only once its table holds at least 4 good nodes and 9 in all;
#   - (a) rill seeds; Transmission adds the magnet (info-hash only), fetches
#     the metadata from rill and completes with exact data;
#   - (b) Transmission seeds; `rill get MAGNET` completes with exact data and
#     saves the metadata as DIR/NAME.torrent.
# No tracker runs anywhere. Skipped (exit 0, "SKIP: ...") where unshare -n
# is not permitted or Transmission is not installed. TR_DHT_VERBOSE=1 logs
# Transmission's DHT traffic; TR_DEBUG_KEEP=DIR copies the logs of a passing
# run to DIR (HARNESS_KEEP=1 keeps those of a failing one).
set -euo pipefail

if [ "${RILL_IN_NETNS:-}" != 1 ]; then
  if ! command -v transmission-daemon >/dev/null || ! command -v transmission-remote >/dev/null; then
    echo "SKIP: Transmission DHT cases (transmission-daemon/-remote not installed)"
    exit 0
  fi
  command -v ip >/dev/null || { echo "SKIP: Transmission DHT cases (no ip command)"; exit 0; }
  # As root, a plain network namespace; otherwise one inside a user
  # namespace, where we are root too. exec keeps our PID (ctest's timeout).
  for how in -n -rn; do
    if unshare "$how" true 2>/dev/null; then
      RILL_IN_NETNS=1 exec unshare "$how" -- bash "$0" "$@"
    fi
  done
  echo "SKIP: Transmission DHT cases (unshare -n is not permitted here: they need a" \
    "network namespace of their own, as Transmission refuses 127.x DHT nodes and peers)"
  exit 0
fi

. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib/clients.sh"

NET=10.99.0
EXTRA=${TR_DHT_EXTRA:-12}           # extra rill dht nodes, on NET.11 and up
size=$((13 * 1024 * 1024 + 4321))   # 833 pieces of 16 KiB: 2 blocks of metadata
CASE_T=90                           # seconds each case may take, at most
netns_addrs "$NET" 1 2 3 4 $(seq 11 $((10 + EXTRA)))
echo "namespace: lo up, $NET.x on $NETNS_DEV"

# content KIND: a file NAME=KIND.bin and a trackerless torrent of it (its own
# info-hash and name, so Transmission's log lines tell the cases apart);
# sets SRC, TOR, HASH and MAG.
content() {
  local dir=$WORK/$1
  mkdir -p "$dir/src"
  gen_file "$dir/src/$1.bin" "$size" "magnet-dht-tr-$1"
  "$RILL" create "$dir/src/$1.bin" --piece-size 16K --no-date -o "$dir/t.torrent" \
    >/dev/null || fail "rill create"
  SRC=$dir/src/$1.bin TOR=$dir/t.torrent HASH=$(info_hash "$dir/t.torrent")
  MAG=$(magnet_of "$TOR")
  "$RILL" info --json "$TOR" | grep -q '"trackers": \[\]' || fail "$TOR names a tracker"
}

elapsed() { printf '%.1f' "$(bc <<<"$EPOCHREALTIME - $1")"; }

# stored_anywhere: how many of our rill dht nodes store at least one peer
# (their stats line, every second, says "storing N torrents").
stored_anywhere() {
  local n=0 f
  for f in "${NODE_LOGS[@]}"; do
    tail -n 3 "$f" | grep -Eq 'storing [1-9][0-9]* torrent' && n=$((n + 1))
  done
  echo "$n"
}

# ---- The bootstrap node (it bootstraps from a port nobody listens on:
# without a --bootstrap it would try the well-known routers) and the extra
# nodes, each on its own address, all joined through it.
t_start=$EPOCHREALTIME
node_port=$(free_port)
rill_dht_node dht-boot "$NET.1" "$node_port" --bootstrap "$NET.1:$(free_port)" \
  --stats-every 1s
BOOT=$NET.1:$node_port
NODE_LOGS=("${HLOG[dht-boot]}") NODES=()
for ((i = 1; i <= EXTRA; i++)); do
  port=$(free_port)
  rill_dht_node "dht-$i" "$NET.$((10 + i))" "$port" --bootstrap "$BOOT" --stats-every 1s
  NODE_LOGS+=("${HLOG[dht-$i]}") NODES+=("$NET.$((10 + i)):$port")
done
check_bound_only dht-boot "$NET.1"
pass "rill dht bootstrap node on udp $BOOT and $EXTRA more nodes joined through it"

# ---- One Transmission for both cases, on NET.4, DHT on: its bootstrap
# node is ours (dht.bootstrap), and it remembers the extra nodes as from an
# earlier run (dht.dat). With the bootstrap node alone its table would stay
# at 8 nodes, of which only those it happened to query good: below the 4
# good and 9 in all it needs to announce (see transmission_dht_nodes).
# Started first: its table takes about 20 s to fill.
TR=$WORK/tr
transmission_dht_bootstrap "$TR" "$BOOT"
transmission_dht_nodes "$TR" "${NODES[@]}"
# TR_DHT_VERBOSE=1 in the environment logs its DHT traffic (any value does).
[ -n "${TR_DHT_VERBOSE:-}" ] || unset TR_DHT_VERBOSE
TR_DHT_ENABLED=true transmission_start "$TR" "$(free_port)" "$(free_port)" "$NET.4"
check_bound_only tr-tr "$NET.4" 127. ::1
TRLOG=${HLOG[tr-tr]}

# ---- (a) rill seeds, Transmission gets the magnet.
content rill2tr
t0=$EPOCHREALTIME
rill_seed_dht rill-seed "$TOR" "$(dirname "$SRC")" "$(free_port)" "$NET.2" "$BOOT" -v
check_bound_only rill-seed "$NET.2"
end=$((EPOCHSECONDS + 30))
until [ "$(stored_anywhere)" -ge 1 ]; do
  proc_alive rill-seed || fail "rill-seed exited before announcing"
  ((EPOCHSECONDS < end)) || fail "no node stores the rill seed's announce after 30s"
  sleep 0.2
done
t_ann=$(elapsed "$t0")
t1=$EPOCHREALTIME
transmission_add "$MAG" "$WORK/rill2tr/tr"
wait_log tr-tr "($HASH|rill2tr\.bin).*Starting .*DHT announce" "$CASE_T" \
  "Transmission's DHT announce of the magnet (its table never filled?)"
t_tr_ann=$(elapsed "$t1")
transmission_wait_done "$CASE_T"
wait_file_equal "$SRC" "$WORK/rill2tr/tr/rill2tr.bin" 10
pass "rill seed -> Transmission magnet via the DHT: metadata and $size exact bytes" \
  "(rill seed stored in $t_ann s; Transmission's DHT announce $t_tr_ann s," \
  "done in $(elapsed "$t1") s after the magnet was added)"
grep -E "($HASH|rill2tr\.bin).*(Learned|DHT announce)" "$TRLOG" | sed 's/^/  tr: /' | head -n 4
stop_proc rill-seed

# ---- (b) Transmission seeds, rill gets the magnet. rill starts as soon as
# Transmission has the torrent: Transmission's search finds rill's announce
# and dials it, or its own announce lands (only once its search is over,
# when the 8 closest nodes have answered, a dead one costing 15 s per try:
# the rill seed of (a) is one) and rill's next lookup finds it.
content tr2rill
t0=$EPOCHREALTIME
transmission_add "$TOR" "$(dirname "$SRC")"
transmission_wait_done 60 # verification of the data in place
rill_get_dht rill-get "$MAG" "$WORK/tr2rill/rill" "$(free_port)" "$NET.3" "$BOOT" -v
wait_exit rill-get "$CASE_T" 0
wait_file_equal "$SRC" "$WORK/tr2rill/rill/tr2rill.bin" 5
saved=$WORK/tr2rill/rill/tr2rill.bin.torrent
[ -f "$saved" ] || fail "rill saved no metadata as $saved"
got=$("$RILL" info --json "$saved" | sed -n 's/^ *"info_hash": "\([0-9a-f]*\)".*/\1/p')
[ "$got" = "$HASH" ] || fail "$saved: info-hash ${got:-unreadable}, want $HASH"
if grep -q "$NET.4:[0-9]* .*connected (outgoing)" "${HLOG[rill-get]}"; then
  how="rill dialed Transmission"
else
  how="Transmission dialed rill"
fi
pass "Transmission seed -> rill magnet via the DHT: metadata, .torrent and $size exact bytes" \
  "(rill done in $(elapsed "$t0") s after Transmission got the torrent; $how)"
grep -E "tr2rill\.bin.*DHT announce" "$TRLOG" | sed 's/^/  tr: /' | head -n 3

transmission_stop
echo "total $(elapsed "$t_start") s"
[ -z "${TR_DEBUG_KEEP:-}" ] || { rm -rf "$TR_DEBUG_KEEP"; cp -r "$LOGS" "$TR_DEBUG_KEEP"; }
stop_all
