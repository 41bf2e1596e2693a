#!/usr/bin/env bash
# Benchmark: one seeder to one leecher on loopback, a cached 1 GiB file.
#
#   bench/peer/run.sh [DIR]
#
# For each pair (rill->rill, libtorrent->libtorrent, Transmission->
# Transmission, aria2->aria2) it starts the seeder, waits until it has
# checked the data and gone idle, then starts the leecher and measures:
#   MB/s      10^6 bytes per second of the leecher's wall time, from its start
#             (Transmission: from adding the torrent) until it has every piece
#   CPU s/GiB user+system CPU per GiB, seeder (during the transfer, from
#             /proc/PID/stat) and leecher (its whole run, from wait4)
#   RSS MB    peak resident set (VmHWM / ru_maxrss) of each side
#   note      "host reclaimed N MiB during the run" when this VM handed 64 MiB or
#             more of free memory back to its host meanwhile (see reclaimed_kib)
# then checks the leecher's data against the source (cmp) and prints a table,
# with single-core SHA-1 from `openssl speed` and the issue's targets for rill.
#
# Environment:
#   SIZE_MB (1024)       size of the file
#   PIECE (256K)         piece size of the torrent
#   RUNS (1)             runs per pair; the table shows the median by MB/s
#   PAIRS                which pairs, default "rill libtorrent transmission aria2"
#   SKIP_TRANSMISSION=1  leave Transmission out (it is slow on loopback)
#   PAIR_TIMEOUT (300)   seconds a leecher may take; TR_TIMEOUT (400) for Transmission
#                        (a Transmission leecher not done by then gives a partial rate)
#   LT_PROFILE (hp)      libtorrent settings: hp = high_performance_seed(), default
#   BUILD_DIR            where to build a Release rill (build/bench); or RILL=path
# Results also go to DIR/peer-results.json. DIR defaults to /tmp/rill-bench.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
dir=${1:-/tmp/rill-bench}
size_mb=${SIZE_MB:-1024}
piece=${PIECE:-256K}
runs=${RUNS:-1}
pairs=${PAIRS:-"rill libtorrent transmission aria2"}
pair_timeout=${PAIR_TIMEOUT:-300}
tr_timeout=${TR_TIMEOUT:-400}
lt_profile=${LT_PROFILE:-hp}
build=${BUILD_DIR:-$src/build/bench}
[ "${SKIP_TRANSMISSION:-0}" = 1 ] && pairs=${pairs//transmission/}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

# ---------------------------------------------------------------- rill build
. "$src/bench/lib.sh"
rill=${RILL:-}
if [ -z "$rill" ] && ! rill=$(bench_build_rill "$src" "$build" "$dir/build.log"); then
  echo "   build failed (see $dir/build.log); the rill row is skipped"
  rill=/nonexistent/rill
fi

# The harness: WORK (under DIR), spawn, the client helpers.
export TMPDIR=$dir
HARNESS_LIFETIME=$((tr_timeout + 600))
set -- "$rill"
. "$src/tests/lib/common.sh"
. "$src/tests/interop/lib/clients.sh"
RUSAGE=$here/rusage.py

# ---------------------------------------------------------------- data
data=$dir/peer-1g.bin
[ "$size_mb" = 1024 ] || data=$dir/peer-${size_mb}m.bin
bytes=$((size_mb * 1024 * 1024))
if [ ! -f "$data" ] || [ "$(stat -c %s "$data")" -ne "$bytes" ]; then
  echo "== writing $size_mb MiB of random data to $data"
  head -c "$bytes" /dev/urandom >"$data.tmp"
  mv "$data.tmp" "$data"
fi
echo "== warming the page cache"
sync # a freshly written file's dirty pages would be written back during the first transfer
cat "$data" >/dev/null
cat "$data" >/dev/null

tport=$(free_port)
torrent=$WORK/bench.torrent
if [ -x "$rill" ] && "$rill" create "$data" --piece-size "$piece" --no-date -q -f \
     --tracker "http://127.0.0.1:$tport/announce" -o "$torrent" >/dev/null 2>&1; then :
else
  need mktorrent
  log2=$("$PY" -c "s='$piece'.upper(); m={'K':10,'M':20}[s[-1]]; print((int(s[:-1]) << m).bit_length() - 1)")
  mktorrent -l "$log2" -a "http://127.0.0.1:$tport/announce" -o "$torrent" "$data" >/dev/null
fi
hash=$(info_hash "$torrent")
start_opentracker "$WORK/tracker" "$tport" "$hash"
echo "== torrent $hash, $(basename "$data"), piece $piece; tracker $TRACKER_URL"

# ---------------------------------------------------------------- measuring
RESULTS=$WORK/results.jsonl
: >"$RESULTS"

# wait_idle PID: until the process has used < 20 ms of CPU for a second
# (a seeder done checking its data); at most 180 s.
wait_idle() {
  local pid=$1 prev cur n=0 end=$((EPOCHSECONDS + 180))
  prev=$("$PY" "$HARNESS_PY" procstat "$pid" | cut -d' ' -f1)
  while ((EPOCHSECONDS < end)); do
    sleep 0.25
    cur=$("$PY" "$HARNESS_PY" procstat "$pid" | cut -d' ' -f1)
    if "$PY" -c "import sys; sys.exit(0 if $cur - $prev < 0.02 else 1)"; then
      n=$((n + 1)); ((n >= 4)) && return 0
    else
      n=0
    fi
    prev=$cur
  done
  fail "process $pid still busy after 180 s"
}

cpu_of() { "$PY" "$HARNESS_PY" procstat "$1" | cut -d' ' -f1; }
rss_of() { "$PY" "$HARNESS_PY" procstat "$1" | cut -d' ' -f2; }

# record PAIR WALL SEED_CPU LEECH_CPU SEED_RSS_KB LEECH_RSS_KB OK [NOTE]
record() {
  "$PY" - "$RESULTS" "$bytes" "$@" <<'EOF'
import json, sys
out, size, pair, wall, scpu, lcpu, srss, lrss, ok = sys.argv[1:10]
note = sys.argv[10] if len(sys.argv) > 10 else ""
size, wall = int(size), float(wall)
gib = size / 2**30
row = {"pair": pair, "bytes": size, "seconds": wall, "mbs": size / wall / 1e6,
       "seed_cpu_per_gib": float(scpu) / gib, "leech_cpu_per_gib": float(lcpu) / gib,
       "seed_rss_mb": int(srss) / 1024, "leech_rss_mb": int(lrss) / 1024,
       "ok": ok == "yes", "note": note}
open(out, "a").write(json.dumps(row) + "\n")
print("   %s: %.1f MB/s in %.2f s; CPU s/GiB seed %.2f leech %.2f; RSS MB seed %.0f leech %.0f %s"
      % (pair, row["mbs"], wall, row["seed_cpu_per_gib"], row["leech_cpu_per_gib"],
         row["seed_rss_mb"], row["leech_rss_mb"], ("" if row["ok"] else "DATA MISMATCH ") + note))
EOF
}

ru() { "$PY" -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2"; }

# prefault_memory DIR: this VM reports freed pages to its host (virtio_balloon
# free page reporting: /sys/module/page_reporting), and the first touch of a
# reported page faults in the host. A leecher started after the seeder's idle
# wait would find its page cache made of such pages: writing 1 GiB then costs
# 1.5-2.5 s of system time instead of 0.2-0.5 (measured with dd and with each
# client). Writing and deleting a file of the download's size just before the
# leecher starts leaves it pages the host still backs, as on a real machine.
# Every pair gets the same; PREFAULT=0 turns it off.
prefault_memory() {
  [ "${PREFAULT:-1}" = 1 ] || return 0
  dd if=/dev/zero of="$1/.prefault" bs=1M count=$((size_mb + 64)) status=none
  rm -f "$1/.prefault"
}

# reclaimed_kib: how many KiB of free memory this VM has handed back to its
# host so far (0 where the kernel has no free page reporting). A run during
# which the host took back hundreds of MiB wrote into pages it had to fault
# in again: its note says how many, so a slow row can be told from a slow
# client.
RECLAIM_FILE=/sys/module/page_reporting/parameters/reported_kib
reclaimed_kib() { if [ -r "$RECLAIM_FILE" ]; then cat "$RECLAIM_FILE"; else echo 0; fi; }
reclaim_note() { # KIB_BEFORE: the note for what the host took back since
  local mib=$((($(reclaimed_kib) - $1) / 1024))
  ((mib >= 64)) && echo "host reclaimed ${mib} MiB during the run"
  return 0
}

# One measured transfer with a seeder that is already idle (SEED_PID) and a
# leecher command that exits 0 when done: run_leecher PAIR NAME DEST CMD...
run_leecher() {
  local pair=$1 name=$2 dest=$3; shift 3
  local s0 rc ok=yes k0
  prefault_memory "$dest"
  s0=$(cpu_of "$SEED_PID"); k0=$(reclaimed_kib)
  spawn "$name" "$PY" "$RUSAGE" "$WORK/$name.ru.json" -- "$@"
  wait_exit "$name" "$pair_timeout"
  rc=$EXIT_RC
  local note; note=$(reclaim_note "$k0")
  [ -f "$WORK/$name.ru.json" ] || fail "$pair: no measurement from the leecher (status $rc)"
  [ "$rc" -eq 0 ] || fail "$pair: leecher exited with status $rc"
  cmp -s "$data" "$dest/$(basename "$data")" || ok=no
  record "$pair" "$(ru "$WORK/$name.ru.json" wall)" \
    "$("$PY" -c "print($(cpu_of "$SEED_PID") - $s0)")" "$(ru "$WORK/$name.ru.json" cpu)" \
    "$(rss_of "$SEED_PID")" "$(ru "$WORK/$name.ru.json" maxrss_kb)" "$ok" "$note"
}

next_run=0
fresh_dest() { # prints a new, empty download directory
  next_run=$((next_run + 1))
  local d=$WORK/dl-$next_run
  rm -rf "$WORK"/dl-*
  sync
  mkdir -p "$d"
  echo "$d"
}

# --- rill -> rill: the row rill's client will fill in.
bench_rill() {
  if ! [ -x "$rill" ] || ! "$rill" get --help >/dev/null 2>&1; then
    echo "   rill: not yet (no working 'rill get' in $rill)"
    echo '{"pair": "rill -> rill", "missing": true}' >>"$RESULTS"
    return 0
  fi
  local r=$1 dest port; dest=$(fresh_dest); port=$(free_port)
  spawn "rill-seed$r" "$rill" seed "$torrent" "$dir" --port "$port" --no-dht --no-lsd
  wait_for_port 127.0.0.1 "$port" 120 tcp "rill-seed$r"
  SEED_PID=$(proc_pid "rill-seed$r"); wait_idle "$SEED_PID"
  run_leecher "rill -> rill" "rill-leech$r" "$dest" \
    "$rill" get "$torrent" -o "$dest" --peer "127.0.0.1:$port" --port "$(free_port)" --no-dht --no-lsd
  stop_proc "rill-seed$r"
}

bench_libtorrent() {
  local r=$1 dest port hp=(); dest=$(fresh_dest); port=$(free_port)
  [ "$lt_profile" = hp ] && hp=(--high-performance)
  lt_seed "lt-seed$r" "$torrent" "$dir" "$port" 127.0.0.11 --quiet "${hp[@]}"
  SEED_PID=$(proc_pid "lt-seed$r"); wait_idle "$SEED_PID"
  run_leecher "libtorrent -> libtorrent" "lt-leech$r" "$dest" \
    "$PY" "$LT_CLIENT" --torrent "$torrent" --save "$dest" --leech --exit-when-done \
    --port "$(free_port)" --bind 127.0.0.12 --peer "127.0.0.11:$port" --quiet \
    --timeout "$pair_timeout" "${hp[@]}"
  stop_proc "lt-seed$r"
}

bench_aria2() {
  local r=$1 dest port; dest=$(fresh_dest); port=$(free_port)
  aria2_seed "aria-seed$r" "$torrent" "$dir" "$port" 127.0.0.13
  SEED_PID=$(proc_pid "aria-seed$r"); wait_idle "$SEED_PID"
  _aria2_common "aria-leech$r" "$(free_port)" 127.0.0.14
  run_leecher "aria2 -> aria2" "aria-leech$r" "$dest" \
    aria2c "${ARIA2_ARGS[@]}" --seed-time=0 -d "$dest" "$torrent"
  stop_proc "aria-seed$r"
}

# Transmission never dials loopback peers: bt_splice dials both daemons.
bench_transmission() {
  local r=$1 dest pa pb ok=yes; dest=$(fresh_dest); pa=$(free_port); pb=$(free_port)
  transmission_start "$WORK/tr-seed$r" "$pa" "$(free_port)" 127.0.0.15
  transmission_add "$torrent" "$dir"
  transmission_wait_done 180
  SEED_PID=$(proc_pid "tr-tr-seed$r"); wait_idle "$SEED_PID"
  transmission_start "$WORK/tr-leech$r" "$pb" "$(free_port)" 127.0.0.16
  local lpid s0 l0 t0 t1 done_file
  lpid=$(proc_pid "tr-tr-leech$r"); wait_idle "$lpid"
  prefault_memory "$dest"
  local k0; k0=$(reclaimed_kib)
  s0=$(cpu_of "$SEED_PID"); l0=$(cpu_of "$lpid")
  t0=$EPOCHREALTIME
  transmission_add "$torrent" "$dest"
  bt_splice "splice$r" "$torrent" "127.0.0.15:$pa" "127.0.0.16:$pb" --reserved 0000000000100004
  done_file=$WORK/tr-leech$r/done-$hash
  local end=$((EPOCHSECONDS + tr_timeout)) note=""
  while [ ! -f "$done_file" ] && ((EPOCHSECONDS < end)); do sleep 0.1; done
  if [ -f "$done_file" ]; then
    t1=$(cut -d' ' -f1 "$done_file")
    cmp -s "$data" "$dest/$(basename "$data")" || ok=no
  else
    t1=$EPOCHREALTIME
    local pct; pct=$(_tr_state "$WORK/tr-leech$r" | cut -d'%' -f1)
    note="partial: ${pct}% after ${tr_timeout}s"
    ok=no
  fi
  local rn; rn=$(reclaim_note "$k0")
  [ -n "$rn" ] && note="${note:+$note; }$rn"
  local wall; wall=$("$PY" -c "print(${t1/,/.} - ${t0/,/.})")
  local scpu lcpu
  scpu=$("$PY" -c "print($(cpu_of "$SEED_PID") - $s0)")
  lcpu=$("$PY" -c "print($(cpu_of "$lpid") - $l0)")
  if [ -n "$note" ]; then # scale to what was moved
    local f; f=$("$PY" -c "print(max(float('${pct:-0}'), 0.1) / 100)")
    wall=$("$PY" -c "print($wall / $f)"); scpu=$("$PY" -c "print($scpu / $f)")
    lcpu=$("$PY" -c "print($lcpu / $f)")
  fi
  record "transmission -> transmission" "$wall" "$scpu" "$lcpu" \
    "$(rss_of "$SEED_PID")" "$(rss_of "$lpid")" "$ok" "$note"
  stop_proc "splice$r"
  transmission_stop "$WORK/tr-leech$r"
  transmission_stop "$WORK/tr-seed$r"
}

for r in $(seq 1 "$runs"); do
  for p in $pairs; do
    echo "== $p (run $r of $runs)"
    "bench_$p" "$r"
  done
done
rm -rf "$WORK"/dl-*

echo "== openssl speed -evp sha1 -bytes 16384 (one core)"
sha_kbs=$(openssl speed -evp sha1 -bytes 16384 -seconds 3 2>/dev/null |
          awk '/^sha1 / { sub(/k$/, "", $2); print $2 }')
[ -n "$sha_kbs" ] || fail "cannot parse openssl speed"

"$PY" - "$RESULTS" "$sha_kbs" "$dir/peer-results.json" "$size_mb" "$piece" <<'EOF'
import json, os, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
sha = float(sys.argv[2]) * 1000 / 1e6
order = ["rill -> rill", "libtorrent -> libtorrent", "transmission -> transmission",
         "aria2 -> aria2"]
best = {}
for pair in order:
    rs = [r for r in rows if r["pair"] == pair and not r.get("missing")]
    if rs:
        rs.sort(key=lambda r: r["mbs"])
        best[pair] = rs[len(rs) // 2]  # the median run
print()
print("%d MiB, piece %s, %d core(s); median of %s run(s)" % (
    int(sys.argv[4]), sys.argv[5], os.cpu_count(),
    max([sum(1 for r in rows if r["pair"] == p) for p in order] + [1])))
print("%-30s %8s %8s %10s %10s %9s %9s  %s" % ("pair", "MB/s", "time s", "seed CPU", "leech CPU",
                                              "seed RSS", "leech RSS", "note"))
print("%-30s %8s %8s %10s %10s %9s %9s" % ("", "", "", "s/GiB", "s/GiB", "MB", "MB"))
for pair in order:
    if pair in best:
        r = best[pair]
        print("%-30s %8.1f %8.2f %10.2f %10.2f %9.0f %9.0f  %s" % (
            pair, r["mbs"], r["seconds"], r["seed_cpu_per_gib"], r["leech_cpu_per_gib"],
            r["seed_rss_mb"], r["leech_rss_mb"],
            ("" if r["ok"] else "DATA MISMATCH ") + r["note"]))
    elif any(r["pair"] == pair for r in rows):
        print("%-30s %8s" % (pair, "not yet"))
print("%-30s %8.0f   (openssl speed -evp sha1, 16 KiB blocks)" % ("single-core SHA-1", sha))
others = [r for p, r in best.items() if p != "rill -> rill" and r["ok"]]
if others:
    fastest = max(others, key=lambda r: r["mbs"])
    print("targets for rill: >= 1.5 x %s = %.0f MB/s, and >= 60%% of SHA-1 = %.0f MB/s;"
          % (fastest["pair"], 1.5 * fastest["mbs"], 0.6 * sha))
    print("                  CPU s/GiB and peak RSS below every other pair's, on each side")
rill = best.get("rill -> rill")
if rill and others:
    print("rill: %.2fx the fastest, %.0f%% of single-core SHA-1" % (
        rill["mbs"] / fastest["mbs"], 100 * rill["mbs"] / sha))
    for key, label in (("seed_cpu_per_gib", "seed CPU"), ("leech_cpu_per_gib", "leech CPU"),
                       ("seed_rss_mb", "seed RSS"), ("leech_rss_mb", "leech RSS")):
        worse = [r["pair"] for r in others if rill[key] >= r[key]]
        print("  %-10s %s" % (label, "lowest" if not worse else "not below " + ", ".join(worse)))
json.dump({"rows": rows, "median": best, "sha1_mbs": sha}, open(sys.argv[3], "w"), indent=1)
print("results: %s" % sys.argv[3])
EOF
