#!/usr/bin/env bash
# Runs one libFuzzer target for a few seconds over a scratch copy of its seed
# corpus, so the checked-in corpus stays as committed. A crash fails the test
# and leaves the reproducer in the scratch directory, whose path is printed.
set -eu
fuzzer=$1 corpus=$2 seconds=${3:-10}
[ -d "$corpus" ] || { echo "missing seed corpus $corpus"; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/rill-fuzz.XXXXXX")
cp -r "$corpus"/. "$work"/
cd "$work"
if "$fuzzer" -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
     -print_final_stats=1 "$work" 2>fuzz.log; then
  tail -n 12 fuzz.log; cd /; rm -rf "$work"
else
  tail -n 60 fuzz.log; echo "reproducer kept in $work"; exit 1
fi
