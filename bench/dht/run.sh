#!/usr/bin/env bash
# bench/dht: a network of real rill DHT nodes on loopback against what
# `rill sim dht` predicts for the same size (issue 6).
#
#   bench/dht/run.sh [DIR]          # DIR: /tmp/rill-bench by default
#
# Starts PROCS processes of rill_dht_net (bench/dht/dht_net.c), NODES / PROCS
# nodes each, every node on its own loopback address 127.A.B.1 and the same
# UDP port; node 0 of process 0 is everyone's bootstrap node, so process 0
# starts first and the others once it is up. The processes join, announce
# one info-hash per node, then run LOOKUPS get_peers in all (INFLIGHT at once
# per process) of random nodes' info-hashes, in phases they synchronize
# through files in DIR/dht/sync. Prints lookups/s, latency (median, p99),
# hops and failures beside `rill sim dht --experiment cost` at the same size,
# and the three targets met or not. Every process it starts is stopped by
# PID on exit; each phase has a time limit (TIMEOUT s) and each process runs
# under `timeout`. About 5 s for 1,000 nodes on 2 cores.
#
# Environment: NODES (1000), PROCS (4), LOOKUPS (10000), INFLIGHT (16),
# SEED (1), JOIN_RATE (nodes started a second per process, 200), WARMUP
# (get_peers of random keys per node after the join, 0), TIMEOUT (60),
# PORT (random), RILL and DHT_NET (binaries; default: a Release build
# in $BUILD_DIR, else build/bench).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
dir=${1:-/tmp/rill-bench}/dht
nodes=${NODES:-1000}
procs=${PROCS:-4}
lookups=${LOOKUPS:-10000}
inflight=${INFLIGHT:-16}
seed=${SEED:-1}
join_rate=${JOIN_RATE:-200}
limit=${TIMEOUT:-60}
warmup=${WARMUP:-0}
port=${PORT:-$((20000 + RANDOM % 30000))}
PY=/usr/bin/python3
. "$src/bench/lib.sh"

((procs >= 1 && nodes >= 2 * procs)) || { echo "run.sh: need NODES >= 2 * PROCS" >&2; exit 2; }
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
build=${BUILD_DIR:-$src/build/bench}
rill=${RILL:-}
net=${DHT_NET:-}
if [ -z "$rill" ] && ! rill=$(bench_build_rill "$src" "$build" "$dir/build.log"); then
  echo "build failed: $dir/build.log" >&2
  exit 1
fi
if [ -z "$net" ]; then
  echo "== building rill_dht_net into $build" >&2
  cmake --build "$build" -j"$(nproc)" --target rill_dht_net >>"$dir/build.log" 2>&1 ||
    { echo "build failed: $dir/build.log" >&2; exit 1; }
  net=$build/rill_dht_net
fi

pids=()
cleanup() {
  local pid
  for pid in "${pids[@]:-}"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]:-}"; do [ -n "$pid" ] && wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

sync=$dir/sync
rm -rf "$sync" "$dir"/proc*.json "$dir"/proc*.err
mkdir -p "$sync"
per=$((nodes / procs))
last=$((nodes - per * (procs - 1)))
((last == per)) || { echo "run.sh: NODES must be a multiple of PROCS" >&2; exit 2; }
lk_per=$(((lookups + procs - 1) / procs))
# Six phases with their own limits, and a margin: the process's hard limit.
hard=$((limit * 6 + 30))

start_proc() {
  local i=$1
  timeout "$hard" "$net" --proc "$i" --procs "$procs" --nodes "$per" --port "$port" \
    --sync "$sync" --lookups "$lk_per" --inflight "$inflight" --seed "$seed" \
    --join-rate "$join_rate" --timeout "$limit" --warmup "$warmup" >"$dir/proc$i.json" 2>"$dir/proc$i.err" &
  pids+=($!)
}

echo "== $nodes nodes in $procs processes on 127.x.y.1:$port, $((lk_per * procs)) lookups"
start=$EPOCHREALTIME
start_proc 0
for _ in $(seq 100); do [ -e "$sync/ready.0" ] && break; sleep 0.1; done
[ -e "$sync/ready.0" ] || { echo "process 0 did not start: $(cat "$dir/proc0.err")" >&2; exit 1; }
for ((i = 1; i < procs; i++)); do start_proc "$i"; done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=$?; done
pids=()
wall=$("$PY" -c "print(round(${EPOCHREALTIME/,/.} - ${start/,/.}, 2))")
if ((status != 0)); then
  echo "a process failed (exit $status); see $dir/proc*.err" >&2
  cat "$dir"/proc*.err >&2
  exit 1
fi

echo "== $rill sim dht --sizes $nodes --experiment cost --seed $seed --json"
"$rill" sim dht --sizes "$nodes" --experiment cost --seed "$seed" --json >"$dir/sim.json"

"$PY" - "$dir" "$procs" "$wall" <<'PYEOF'
import glob, json, math, os, statistics, sys
d, procs, wall = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
ps = [json.load(open(os.path.join(d, "proc%d.json" % i))) for i in range(procs)]
sim = [c for c in json.load(open(os.path.join(d, "sim.json")))["cost"]
       if c["engine"] == "kademlia"][0]

def pct(v, q):  # nearest rank, as the simulator's p99
    v = sorted(v)
    return v[max(0, math.ceil(q * len(v)) - 1)] if v else float("nan")

def summary(key):
    rs = [r for p in ps for r in p[key]["r"]]
    done = [r for r in rs if r[3]]
    return {
        "n": sum(p[key]["total"] for p in ps), "finished": len(done),
        "found": sum(r[2] for r in rs),
        "wall_s": max(p[key]["wall_s"] for p in ps),
        "lat_median_ms": statistics.median(r[0] for r in done) if done else None,
        "lat_p99_ms": pct([r[0] for r in done], 0.99),
        "hops_median": statistics.median(r[1] for r in done) if done else None,
        "hops_p99": pct([r[1] for r in done], 0.99),
        "hops_mean": statistics.fmean(r[1] for r in done) if done else None,
        "cut": any(p[key]["cut"] for p in ps),
        "failed": [r[4:6] for r in rs if not r[2]][:20],
    }

nodes = sum(p["nodes"] for p in ps)
ann, look = summary("announce"), summary("lookup")
tot = lambda k: sum(p[k] for p in ps)
out = {
    "nodes": nodes, "procs": procs, "wall_s": wall,
    "join_s": max(p["join_s"] for p in ps), "joined": tot("joined"),
    "boot_retries": tot("boot_retries"), "barrier_cut": any(p["barrier_cut"] for p in ps),
    "table_median": statistics.median(p["table_median"] for p in ps),
    "table_min": min(p["table_min"] for p in ps),
    "size_estimate_mean": statistics.fmean(p["size_estimate_mean"] for p in ps),
    "queries_out": tot("queries_out"), "timeouts": tot("timeouts"), "refused": tot("refused"),
    "announce": ann, "lookup": look,
    "lookups_per_s": look["finished"] / look["wall_s"] if look["wall_s"] else 0,
    "sim": {k: sim[k] for k in ("hops_median", "hops_p99", "hops_mean", "msgs_mean",
                                "latency_ms", "success")},
}
json.dump(out, open(os.path.join(d, "dht-results.json"), "w"), indent=1)

print()
print("rill DHT: %d nodes in %d processes on loopback, %.1f s in all" % (nodes, procs, wall))
print("join      %d of %d nodes bootstrapped in %.2f s (%d retries); routing tables: "
      "median %g nodes, min %d; size estimate %.0f" % (
      out["joined"], nodes, out["join_s"], out["boot_retries"], out["table_median"],
      out["table_min"], out["size_estimate_mean"]))
print("announce  %d in %.2f s, latency median %.1f ms, hops median %g" % (
      ann["finished"], ann["wall_s"], ann["lat_median_ms"], ann["hops_median"]))
print("lookup    %d in %.2f s: %.0f lookups/s; queries sent %d, timeouts %d, refused %d" % (
      look["finished"], look["wall_s"], out["lookups_per_s"], out["queries_out"],
      out["timeouts"], out["refused"]))
print()
print("%-22s %12s %12s" % ("", "loopback", "rill sim"))
print("%-22s %12g %12g" % ("hops median", look["hops_median"], sim["hops_median"]))
print("%-22s %12g %12g" % ("hops p99", look["hops_p99"], sim["hops_p99"]))
print("%-22s %12.2f %12.2f" % ("hops mean", look["hops_mean"], sim["hops_mean"]))
print("%-22s %12.1f %12s" % ("latency median ms", look["lat_median_ms"], "-"))
print("%-22s %12.1f %12s" % ("latency p99 ms", look["lat_p99_ms"], "-"))
print("%-22s %11.1f%% %11.1f%%" % ("found", 100.0 * look["found"] / look["n"],
      100 * sim["success"]))
print()
fails = look["n"] - look["found"]
met = lambda ok: "met" if ok else "NOT met"
print("target: no lookup fails without churn    %d of %d failed   %s" % (
      fails, look["n"], met(fails == 0)))
print("target: median hops within 1 of the sim  %g vs %g           %s" % (
      look["hops_median"], sim["hops_median"],
      met(abs(look["hops_median"] - sim["hops_median"]) <= 1)))
print("target: median latency under 50 ms      %.1f ms             %s" % (
      look["lat_median_ms"], met(look["lat_median_ms"] < 50)))
if fails:
    print("failed lookups [origin, target] (first 20):", look["failed"])
print("results:", os.path.join(d, "dht-results.json"))
PYEOF
