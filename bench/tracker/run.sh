#!/usr/bin/env bash
# Benchmark: rill tracker against Debian's opentracker, same load, same run.
#
#   bench/tracker/run.sh [DIR]          # DIR: /tmp/rill-bench by default
#
# Compiles bench/tracker/loadgen*.c into DIR/tracker/, then for each mode
# (UDP, then HTTP) and each tracker (opentracker, then rill) starts a fresh
# tracker on free 127.0.0.1 ports and runs loadgen against it: register
# PEERS peers over TORRENTS torrents, scrape every torrent to check the
# tracker counts them all, then re-announce for SECONDS seconds. Prints
# announces/s, p99 latency and RSS per 100,000 peers with rill/opentracker
# ratios and the targets of issue 4. Every process it starts is stopped by
# PID on exit; every step has a time limit (a few minutes in all).
# Environment: TORRENTS (10000), PEERS (100000), SECONDS or DURATION (10),
# CONNS (HTTP connections, 64), SOCKETS (UDP sockets, 4), WINDOW (UDP
# requests in flight per socket, 32), RUNS (1; the table shows medians),
# MODES ("udp http"), PIN (1: tracker on CPU 1, loadgen on CPU 0),
# RILL (path to rill; default build/bench/rill, or $BUILD_DIR/rill).
dur=${DURATION:-$SECONDS} # read first: bash counts SECONDS up from its env value
((dur > 0)) || dur=10
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
dir=${1:-/tmp/rill-bench}/tracker
torrents=${TORRENTS:-10000}
peers=${PEERS:-100000}
conns=${CONNS:-64}
sockets=${SOCKETS:-4}
window=${WINDOW:-32}
runs=${RUNS:-1}
modes=${MODES:-udp http}
pin=${PIN:-1}
rill=${RILL:-${BUILD_DIR:-$src/build/bench}/rill}
py=/usr/bin/python3

need() { command -v "$1" >/dev/null 2>&1 || { echo "run.sh: $1 is required" >&2; exit 1; }; }
need cc
need curl
need opentracker
need "$py"

declare -a started=()
cleanup() {
    local pid
    for pid in "${started[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${started[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    done
    started=()
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$dir"
results=$dir/tracker-results.jsonl
: >"$results"
loadgen=$dir/loadgen
echo "== compiling loadgen into $loadgen"
cc -O2 -std=c17 -Wall -Wextra -Werror -o "$loadgen" "$here/loadgen.c" "$here/loadgen_udp.c" \
  "$here/loadgen_http.c"

cpus=(taskset -c 1)
lcpus=(taskset -c 0)
if [ "$pin" != 1 ] || [ "$(nproc)" -lt 2 ] || ! command -v taskset >/dev/null; then
    cpus=()
    lcpus=()
fi

have_rill=0
if [ -x "$rill" ] && "$rill" tracker --help >/dev/null 2>&1; then
    have_rill=1
else
    echo "rill: not yet (no working '$rill tracker --help')"
fi

# free_port: a port free for both TCP and UDP on 127.0.0.1.
free_port() {
    "$py" - <<'EOF'
import socket
for _ in range(100):
    t = socket.socket(); t.bind(("127.0.0.1", 0)); port = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", port)); print(port); break
    except OSError:
        pass
    finally:
        u.close(); t.close()
EOF
}

# pct HEX: the 20 bytes percent-encoded.
pct() { echo -n "$1" | sed 's/../%&/g'; }

# wait_serves URL HEX: until the tracker answers an announce for HEX without
# a failure (opentracker reads its whitelist in a thread after startup).
# event=stopped, so the probe leaves no peer behind.
wait_serves() {
    local url=$1 hex=$2 end=$((EPOCHSECONDS + 20)) out
    while ((EPOCHSECONDS < end)); do
        out=$(curl -s -m 2 "$url?info_hash=$(pct "$hex")&peer_id=-PROBE-0000000000000&port=9&uploaded=0&downloaded=0&left=0&compact=1&event=stopped" || true)
        case $out in d*interval*) return 0 ;; esac
        sleep 0.1
    done
    echo "run.sh: tracker at $url does not serve $hex: $out" >&2
    return 1
}

# start_tracker NAME PORT: starts it in DIR/NAME-PORT; sets tpid.
start_tracker() {
    local name=$1 port=$2 tdir=$dir/$1-$2
    rm -rf "$tdir"
    mkdir -p "$tdir"
    if [ "$name" = opentracker ]; then
        # Debian's opentracker serves whitelisted info-hashes only; as root it
        # chroots to -d and drops to nobody before reading the (relative) list.
        "$loadgen" hashes --torrents "$torrents" >"$tdir/whitelist.txt"
        printf '%s\n' "access.whitelist whitelist.txt" "access.stats 127.0.0.1" \
            "listen.tcp 127.0.0.1:$port" "listen.udp 127.0.0.1:$port" >"$tdir/opentracker.conf"
        chmod 755 "$tdir"
        chmod 644 "$tdir"/*
        "${cpus[@]}" opentracker -f "$tdir/opentracker.conf" -d "$tdir" -u nobody \
            >"$tdir/log" 2>&1 &
    else
        "${cpus[@]}" "$rill" tracker --http "127.0.0.1:$port" --udp "127.0.0.1:$port" \
            --interval 1800 >"$tdir/log" 2>&1 &
    fi
    tpid=$!
    started+=("$tpid")
    wait_serves "http://127.0.0.1:$port/announce" "$("$loadgen" hashes --torrents "$torrents" | tail -n 1)"
}

stop_tracker() {
    cleanup
}

# tracker_stats NAME PORT: the tracker's own counts, one line: opentracker's
# /stats?mode=peer (peers, seeders, "opentracker serving N torrents") or
# rill's /stats JSON.
tracker_stats() {
    if [ "$1" = opentracker ]; then
        curl -s -m 5 "http://127.0.0.1:$2/stats?mode=peer" | head -n 3 | paste -sd' ' |
            awk '{print "peers " $1 ", seeders " $2 ", torrents " $5}'
    else
        curl -s -m 5 "http://127.0.0.1:$2/stats" | "$py" -c '
import json, sys
s = json.load(sys.stdin)
print("peers %s, seeders %s, torrents %s" % (s.get("peers"), s.get("seeders"), s.get("torrents")))'
    fi
}

bench_one() {
    local name=$1 mode=$2 run=$3 port n c
    port=$(free_port)
    start_tracker "$name" "$port"
    c=$conns
    [ "$mode" = udp ] && c=$sockets
    echo "== $name $mode (run $run): $torrents torrents, $peers peers, ${dur}s, port $port"
    # In the background, so that a signal to this script is handled at once.
    timeout $((dur + 400)) "${lcpus[@]}" "$loadgen" "$mode" "127.0.0.1:$port" \
        --torrents "$torrents" --peers "$peers" --seconds "$dur" --conns "$c" \
        --window "$window" --pid "$tpid" --label "$name" --phase-limit 120 \
        >"$dir/$name-$mode-$run.out" &
    started+=("$!")
    wait "$!" || echo "run.sh: loadgen failed for $name $mode" >&2
    started=("$tpid")
    grep -v '^{' "$dir/$name-$mode-$run.out" || true
    tracker_stats "$name" "$port" >"$dir/$name-$mode-$run.stats" || true
    echo "   $name's own count: $(cat "$dir/$name-$mode-$run.stats")"
    grep '^{' "$dir/$name-$mode-$run.out" | sed "s/}\$/,\"run\":$run}/" >>"$results" || true
    stop_tracker
}

for ((run = 1; run <= runs; run++)); do
    for mode in $modes; do
        bench_one opentracker "$mode" "$run"
        ((have_rill)) && bench_one rill "$mode" "$run"
    done
done

echo
if ((${#cpus[@]})); then where="tracker pinned to CPU 1, loadgen to CPU 0"; else where="not pinned"; fi
echo "== results of $runs run(s), medians; $torrents torrents, $peers peers, ${dur}s; $where"
"$py" - "$results" "$have_rill" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
have_rill = sys.argv[2] == "1"
def med(label, mode, phase, key):
    v = [r[key] for r in rows if r["label"] == label and r["mode"] == mode
         and r["phase"] == phase and key in r]
    return statistics.median(v) if v else None
def fmt(v, unit=""):
    return "-" if v is None else (f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}") + unit
print("| mode | metric | opentracker | rill | rill/opentracker | target |")
print("|---|---|---|---|---|---|")
for mode in ("udp", "http"):
    if not any(r["mode"] == mode for r in rows):
        continue
    M = mode.upper()
    for key, phase, what, target in (
            ("replies_per_s", "measure", "announces/s (re-announce)", ">= 1.5"),
            ("p99_ms", "measure", "p99 latency, ms", ""),
            ("p50_ms", "measure", "p50 latency, ms", ""),
            ("replies_per_s", "register", "announces/s (register)", ""),
            ("rss_kb_per_100k_peers", "register", "RSS KB per 100k peers", "<= 1.0"),
            ("rss_before_kb", "register", "RSS KB before register", ""),
            ("rss_after_kb", "register", "RSS KB after register", ""),
            ("tracker_peers", "scrape", "peers counted (scrape)", ""),
            ("tracker_cpu", "measure", "tracker CPU (cores)", ""),
            ("loadgen_cpu", "measure", "loadgen CPU (cores)", "")):
        o, r = med("opentracker", mode, phase, key), med("rill", mode, phase, key)
        ratio = f"{r / o:.2f}" if o and r is not None else "-"
        if not have_rill:
            r, ratio = None, "not yet"
        print(f"| {M} | {what} | {fmt(o)} | {fmt(r)} | {ratio} | {target} |")
bad = [r for r in rows if r["errors"] or r["bad"] or r["failed"]]
for r in bad:
    print(f"note: {r['label']} {r['mode']} {r['phase']} run {r['run']}: errors {r['errors']}, "
          f"bad {r['bad']}, failed {r['failed']}, timeouts {r['timeouts']}")
for r in rows:
    if r["phase"] == "scrape" and (r["tracker_peers"] != r["expected_peers"]
                                   or r["tracker_torrents"] != r["expected_torrents"]):
        print(f"note: {r['label']} {r['mode']} run {r['run']} counts {r['tracker_peers']} peers "
              f"in {r['tracker_torrents']} torrents, expected {r['expected_peers']} in "
              f"{r['expected_torrents']}")
EOF
