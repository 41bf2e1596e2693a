#!/usr/bin/env bash
# The main job until the swarm lab exists: make a torrent of a generated file,
# show it, verify the data, seed it and download it on loopback, then damage
# one byte and verify again.
set -euo pipefail
RILL=${1:-build/release/rill}
DIR=$(mktemp -d "${TMPDIR:-/tmp}/rill-demo.XXXXXX")
SEED_PID=
cleanup() { [ -n "$SEED_PID" ] && kill "$SEED_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$DIR"; }
trap cleanup EXIT
run() { printf '\n$ %s\n' "$*"; "$@"; }

mkdir -p "$DIR/data"
echo "generating a 64 MiB file in $DIR/data ..."
head -c $((64 << 20)) <(openssl enc -aes-128-ctr -nosalt -pass pass:rill -pbkdf2 -iter 1 </dev/zero 2>/dev/null) > "$DIR/data/demo.bin"
run "$RILL" --version
run "$RILL" create "$DIR/data/demo.bin" --tracker http://127.0.0.1:6969/announce -o "$DIR/demo.torrent"
run "$RILL" info "$DIR/demo.torrent"
run "$RILL" verify "$DIR/demo.torrent" "$DIR/data"
printf '\n# seed it on loopback (in the background) and download it with rill get\n'
"$RILL" seed "$DIR/demo.torrent" "$DIR/data" --bind 127.0.0.1 --port 0 >"$DIR/seed.log" 2>&1 &
SEED_PID=$!
# Its log says which port it took and when its data is checked.
for _ in $(seq 100); do
  grep -q "pieces already here" "$DIR/seed.log" 2>/dev/null && break
  sleep 0.1
done
port=$(sed -n 's/.*listening on 127.0.0.1 port \([0-9]*\).*/\1/p' "$DIR/seed.log" | head -n 1)
[ -n "$port" ] || { echo "the seed did not start:"; cat "$DIR/seed.log"; exit 1; }
run "$RILL" get "$DIR/demo.torrent" -o "$DIR/download" --peer "127.0.0.1:$port" --bind 127.0.0.1 --port 0
run cmp "$DIR/data/demo.bin" "$DIR/download/demo.bin"
echo "identical"
kill "$SEED_PID"; wait "$SEED_PID" 2>/dev/null; SEED_PID=

printf '\n# flip one byte at offset 5,000,000 and verify again (exit code 1 expected)\n'
printf '\xff' | dd of="$DIR/data/demo.bin" bs=1 seek=5000000 conv=notrunc status=none
set +e
run "$RILL" verify "$DIR/demo.torrent" "$DIR/data"
echo "(exit code $?)"
