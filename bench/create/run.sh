#!/usr/bin/env bash
# Benchmark: making a .torrent of a cached 1 GiB file with 256 KiB pieces.
#
#   bench/create/run.sh [DIR]
#
# Builds a Release rill (no sanitizers) into build/bench (or $BUILD_DIR),
# writes DIR/create-1g.bin once (default DIR: /tmp/rill-bench), warms the page
# cache, then times with hyperfine: rill create, mktorrent with one thread per
# core, transmission-create, python3-libtorrent (v1_only), and measures
# single-core SHA-1 with `openssl speed`. Prints throughput and ratios.
# Bounded: a few runs of each command, about a minute in all.
# Environment: RUNS (default 5), SIZE_MB (default 1024), BUILD_DIR.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
dir=${1:-/tmp/rill-bench}
build=${BUILD_DIR:-$src/build/bench}
runs=${RUNS:-5}
size_mb=${SIZE_MB:-1024}
py=/usr/bin/python3

need() { command -v "$1" >/dev/null 2>&1 || { echo "run.sh: $1 is required" >&2; exit 1; }; }
need cmake
need hyperfine
need openssl

. "$src/bench/lib.sh"
mkdir -p "$dir"
rill=$(bench_build_rill "$src" "$build" "$dir/build.log") ||
  { echo "run.sh: build failed (see $dir/build.log)" >&2; exit 1; }

data="$dir/create-1g.bin"
bytes=$((size_mb * 1024 * 1024))
if [ ! -f "$data" ] || [ "$(stat -c %s "$data")" -ne "$bytes" ]; then
    echo "== writing $size_mb MiB of random data to $data"
    head -c "$bytes" /dev/urandom >"$data.tmp"
    mv "$data.tmp" "$data"
fi
echo "== warming the page cache"
cat "$data" >/dev/null
cat "$data" >/dev/null

out="$dir/out"
rm -rf "$out"
mkdir -p "$out"
cat >"$out/lt_create.py" <<'EOF'
import os, sys, libtorrent as lt
path, out = sys.argv[1], sys.argv[2]
fs = lt.file_storage()
fs.add_file(os.path.basename(path), os.path.getsize(path))
ct = lt.create_torrent(fs, 262144, flags=lt.create_torrent.v1_only)
lt.set_piece_hashes(ct, os.path.dirname(os.path.abspath(path)))
open(out, "wb").write(lt.bencode(ct.generate()))
EOF

cores=$(nproc)
# Each command comes with its own --prepare: mktorrent and transmission-create
# refuse to overwrite their output.
names=(rill)
cmds=("$rill create $data --piece-size 256K --no-date -q -f -o $out/rill.torrent")
preps=("rm -f $out/rill.torrent")
if command -v mktorrent >/dev/null; then
    # mktorrent 1.1 as packaged hashes on one thread unless told otherwise.
    names+=("mktorrent -t $cores")
    cmds+=("mktorrent -t $cores -l 18 -d -o $out/mk.torrent $data")
    preps+=("rm -f $out/mk.torrent")
fi
if command -v transmission-create >/dev/null; then
    names+=(transmission-create)
    cmds+=("transmission-create -s 256 -o $out/tc.torrent $data")
    preps+=("rm -f $out/tc.torrent")
fi
if $py -c 'import libtorrent' 2>/dev/null; then
    names+=(libtorrent)
    cmds+=("$py $out/lt_create.py $data $out/lt.torrent")
    preps+=("rm -f $out/lt.torrent")
fi

echo "== hyperfine ($runs runs each)"
args=()
for i in "${!cmds[@]}"; do args+=(--prepare "${preps[$i]}"); done
hyperfine -N -w 1 -r "$runs" --export-json "$out/hyperfine.json" "${args[@]}" "${cmds[@]}" \
    >"$out/hyperfine.txt"

echo "== openssl speed -evp sha1 -bytes 16384 (one core)"
sha_kbs=$(openssl speed -evp sha1 -bytes 16384 -seconds 3 2>/dev/null |
          awk '/^sha1 / { sub(/k$/, "", $2); print $2 }')
[ -n "$sha_kbs" ] || { echo "run.sh: cannot parse openssl speed" >&2; exit 1; }

printf '%s\n' "${names[@]}" >"$out/names.txt"
$py - "$out/hyperfine.json" "$out/names.txt" "$bytes" "$sha_kbs" "$out" <<'EOF'
import hashlib, json, os, sys
res = json.load(open(sys.argv[1]))["results"]
names = open(sys.argv[2]).read().split("\n")[:len(res)]
size, sha = int(sys.argv[3]), float(sys.argv[4]) * 1000 / 1e6   # MB/s
out = sys.argv[5]
rows = []
for name, r in zip(names, res):
    rows.append((name, r["mean"], r["stddev"] or 0.0, r["user"] + r["system"], size / r["mean"] / 1e6))
rill = rows[0]
print()
print(f"{'tool':<22}{'wall s':>9}{'± s':>8}{'cpu s':>8}{'MB/s':>9}{'rill speedup':>14}")
for name, mean, sd, cpu, mbs in rows:
    print(f"{name:<22}{mean:>9.3f}{sd:>8.3f}{cpu:>8.3f}{mbs:>9.0f}{mean / rill[1]:>13.2f}x")
print(f"{'openssl sha1 1 core':<22}{'':>9}{'':>8}{'':>8}{sha:>9.0f}{rill[4] / sha:>13.2f}x")
print(f"\nrill: {rill[4]:.0f} MB/s = {rill[4] / sha:.2f}x single-core SHA-1 ({sha:.0f} MB/s) "
      f"on {os.cpu_count()} cores")
# The info-hashes must agree (same content, name and piece length).
def info_hash(path):
    try:
        import libtorrent as lt
        d = lt.bdecode(open(path, "rb").read())
        return hashlib.sha1(lt.bencode(d[b"info"])).hexdigest()
    except Exception:
        return None
hashes = {f: info_hash(os.path.join(out, f))
          for f in ("rill.torrent", "mk.torrent", "tc.torrent", "lt.torrent")
          if os.path.exists(os.path.join(out, f))}
print("info-hashes:", ", ".join(f"{k} {v}" for k, v in hashes.items()))
# Transmission writes 'private': 0 into the info dictionary, so its hash differs.
vals = {v for k, v in hashes.items() if v and k != "tc.torrent"}
if len(vals) > 1:
    print("MISMATCH between tools' info-hashes", file=sys.stderr)
    sys.exit(1)
EOF
