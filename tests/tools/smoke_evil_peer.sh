#!/usr/bin/env bash
# Manual smoke test of evil_peer.py against libtorrent as the leecher (not a
# ctest test): for each mode, libtorrent meets the hostile peer alone, then
# the hostile peer and an honest libtorrent seed together. Prints libtorrent's
# reaction (hash failures, bans, disconnect reasons) and whether the download
# completed with exact data. About a minute.
#
#   tests/tools/smoke_evil_peer.sh path/to/rill     (rill only makes the torrent)
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../interop/lib/clients.sh"
ALONE_SECONDS=${ALONE_SECONDS:-6}

mkdir -p "$WORK/src"
gen_file "$WORK/src/data.bin" $((2 * 1024 * 1024 + 4321)) evil # 33 pieces: 7 spare bits
"$RILL" create "$WORK/src/data.bin" --piece-size 64K --no-date -q -o "$WORK/t.torrent" >/dev/null
sport=$(free_port)
lt_seed honest "$WORK/t.torrent" "$WORK/src" "$sport" 127.0.0.2 --no-trackers

summary() { # LT_JSON EVIL_JSON EVIL_ADDR
  "$PY" - "$1" "$2" "$3" <<'EOF'
import json, sys
lt, ev, addr = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
reasons = sorted({d["reason"] for d in lt["disconnects"] if d["peer"].startswith(addr + ":")} |
                 {d["error"] for d in lt["peer_errors"] if d["peer"].startswith(addr + ":")})
banned = any(b.startswith(addr + ":") for b in lt["bans"])
others = sorted({b for b in lt["bans"] if not b.startswith(addr + ":")})
print("lt: finished=%s hashfail=%d banned=%s%s reasons=%s | evil: conns=%d closed_by_peer=%d "
      "blocks=%d corrupt=%d" % (lt["finished"], lt["hash_failures"], banned,
                                " ALSO BANNED " + ",".join(others) if others else "",
                                "; ".join(reasons) or "-", ev["connections"],
                                ev["closed_by_peer"], ev["blocks_sent"], ev["corrupt_blocks"]))
EOF
}

n=0
for mode in ${MODES:-honest corrupt garbage oversized oversized1m vanish badbitfield sparebits}; do
  extra=(); m=$mode
  [ "$mode" = oversized1m ] && { m=oversized; extra=(--oversize-len 1048576); }
  for with in alone with-seed; do
    n=$((n + 1))
    eport=$(free_port)
    evil_peer "evil$n" "$WORK/t.torrent" "$WORK/src" "$eport" "$m" --idle 10 "${extra[@]}"
    peers=(--peer "127.0.0.1:$eport")
    [ $with = with-seed ] && peers+=(--peer "127.0.0.2:$sport")
    rm -rf "$WORK/dl$n"
    lt_leech "lt$n" "$WORK/t.torrent" "$WORK/dl$n" "$(free_port)" 127.0.0.3 --no-trackers \
      ${SMOKE_QUIET---quiet} --timeout "$ALONE_SECONDS" "${peers[@]}"
    wait_exit "lt$n" $((ALONE_SECONDS + 10))
    stop_proc "evil$n"
    [ -z "${SMOKE_DEBUG:-}" ] || { cat "${HLOG[lt$n]}" "${HLOG[evil$n]}" | cut -c1-300; }
    same=no
    cmp -s "$WORK/src/data.bin" "$WORK/dl$n/data.bin" && same=yes
    printf '%-12s %-9s exact=%-3s %s\n' "$mode" "$with" "$same" \
      "$(summary "$(last_json "lt$n")" "$(last_json "evil$n")" 127.0.0.1)"
  done
done
