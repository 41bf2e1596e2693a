#!/usr/bin/env bash
# Local service discovery (BEP 14): in a network namespace of its own (the
# multicast never reaches a real LAN), a leecher that knows no peer, no
# tracker and no DHT finds the seed through the LSD multicast group and
# downloads exact data; with --no-lsd it finds nothing.
if [ -z "${RILL_IN_NETNS:-}" ]; then
  if ! unshare -n true 2>/dev/null; then
    echo "SKIP: lsd_cli needs network namespaces (unshare -n, as root)"
    exit 0
  fi
  RILL_IN_NETNS=1 exec unshare -n bash "$0" "$@"
fi
ip link set lo up
ip link set lo multicast on
ip route add 239.0.0.0/8 dev lo
. "$(dirname "$0")/../lib/common.sh"

mkdir -p "$T/src"
gen_file "$T/src/data.bin" 1500000 lsd
"$RILL" create "$T/src/data.bin" --piece-size 32K --no-date -o "$T/t.torrent" >/dev/null
"$RILL" seed "$T/t.torrent" "$T/src" --bind 127.0.0.1 --port 0 --no-dht --no-trackers \
  --json-log -v >"$T/seed.out" 2>&1 &
track_pid $!
for _ in $(seq 100); do grep -qs '"event": "started"' "$T/seed.out" && break; sleep 0.1; done

# No LSD: nothing to find in 4 s.
set +e
timeout -s TERM 4 "$RILL" get "$T/t.torrent" -o "$T/none" --bind 127.0.0.2 --port 0 --no-dht \
  --no-trackers --no-lsd -q
nrc=$?
set -e
[ "$nrc" -ne 0 ] || fail "a leecher with no way to find peers completed"
if [ -s "$T/none/data.bin" ] && cmp -s "$T/src/data.bin" "$T/none/data.bin"; then
  fail "data arrived without LSD"
fi

run get "$T/t.torrent" -o "$T/got" --bind 127.0.0.2 --port 0 --no-dht --no-trackers --json-log -v
expect_rc 0 "get through LSD"
cmp -s "$T/src/data.bin" "$T/got/data.bin" || fail "LSD download differs"
# Whichever heard the other's announce first dialed.
has "$out$(cat "$T/seed.out")" "found on the local network"
pass "a peer found by local service discovery"
