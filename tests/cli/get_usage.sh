#!/usr/bin/env bash
# rill get and rill seed without a swarm: help, usage errors (exit 2, before
# anything is loaded or created), magnet links and bad torrents (exit 3),
# missing files (exit 4); then, on loopback only, data that is already
# complete (exit 0 at once), Ctrl-C with nobody to download from (exit 1,
# within the bounded wait) and a seeder stopped by SIGTERM (exit 0).
. "$(dirname "$0")/../lib/common.sh"

# --- help: in the command list, and the same text both ways.
run --help
expect_rc 0 --help
has "$out" "get "
has "$out" "seed "
has "$out" "get stopped before completion"
for cmd in get seed; do
    run help "$cmd"
    expect_rc 0 help "$cmd"
    has "$out" "Usage: rill $cmd"
    help_text=$out
    run "$cmd" --help
    expect_rc 0 "$cmd" --help
    [ "$out" = "$help_text" ] || fail "'rill help $cmd' and 'rill $cmd --help' differ"
    [ -z "$err" ] || fail "$cmd --help wrote to stderr: $err"
    for word in --peer --port --max-up --max-down --max-peers-total --json-log --ratio; do
        has "$out" "$word"
    done
done
run help get
for word in --output --seed --seed-time --only --sequential "Exit status"; do
    has "$out" "$word"
done

# A small torrent and its content.
mkdir -p "$T/content"
gen_file "$T/content/data.bin" 200000 get-usage
cp "$T/content/data.bin" "$T/original.bin"
"$RILL" create "$T/content/data.bin" -o "$T/d.torrent" -p 16K --no-date -q >/dev/null
TOR=$T/d.torrent

# --- usage errors: exit 2, a hint naming the command, nothing on stdout,
# nothing created, and no torrent read (a missing one would be exit 4).
usage_error() {
    run "$@"
    expect_rc 2 "$@"
    [ -z "$out" ] || fail "rill $*: usage error wrote to stdout: $out"
    has "$err" "Try 'rill $1 --help'."
}
usage_error get
has "$err" "missing FILE.torrent"
usage_error get a.torrent b.torrent
has "$err" "too many arguments"
usage_error get --bogus "$TOR"
has "$err" "--bogus"
usage_error get "$TOR" -o
usage_error get "$T/nope.torrent" --picker fastest
has "$err" "invalid --picker"
usage_error seed "$T/nope.torrent" "$T" --choker tft
has "$err" "invalid --choker"
usage_error seed "$T/nope.torrent" "$T" --picker random   # a get-only option
usage_error get "$T/nope.torrent" --unchoke-slots many
for bad in junk -1 +1 0 1e3 inf nan 1.2.3 "" 2.; do
    usage_error get "$T/nope.torrent" --ratio "$bad"
    has "$err" "invalid --ratio"
done
for bad in 5x -5m 1.5h 0 30m1h 1h30 "" 99999999999999999999d; do
    usage_error get "$T/nope.torrent" --seed-time "$bad"
    has "$err" "invalid --seed-time"
done
for bad in nope host: host:0 host:65536 ::1:6881 "[::1]6881" "a b:1"; do
    usage_error get "$T/nope.torrent" --peer "$bad"
    has "$err" "invalid --peer"
done
for opt in --max-up --max-down; do
    for bad in 1.5M 10Q -1 M 10Mb 99999999999999999999G; do
        usage_error get "$T/nope.torrent" "$opt" "$bad"
        has "$err" "invalid $opt"
    done
done
for bad in 70000 -1 x 0x10; do
    usage_error get "$T/nope.torrent" --port "$bad"
done
for opt in --max-peers --max-peers-total; do
    for bad in 0 x 70000 -3; do
        usage_error get "$T/nope.torrent" "$opt" "$bad"
    done
done
usage_error get "$TOR" -o "$T/never" --ratio junk
[ ! -e "$T/never" ] || fail "a usage error created the output directory"
usage_error seed
has "$err" "expected FILE.torrent and DIR"
usage_error seed "$TOR"
usage_error seed "$TOR" "$T" extra
usage_error seed -o "$T" "$TOR" "$T"
usage_error seed --only '*.bin' "$TOR" "$T"
usage_error seed --sequential "$TOR" "$T"
usage_error seed "$TOR" "$T" --ratio 0
usage_error seed "$TOR" "$T" --max-up lots

# --- magnet links: rill seed refuses one (it has no data); a magnet whose
# peers never come is fetched until stopped (tests/cli/magnet_cli.sh does the
# rest).
MAGNET='magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=x'
run seed "$MAGNET" "$T"
expect_rc 2 seed magnet
has "$err" "rill: seed: a magnet link holds no data"
run get 'magnet:?xt=urn:btih:zz'
expect_rc 3 get bad magnet
has "$err" "rill: magnet link:"

# --- bad and missing input.
run get "$T/nope.torrent"
expect_rc 4 get missing torrent
has "$err" "rill: $T/nope.torrent"
printf 'd4:info' >"$T/broken.torrent"
run get "$T/broken.torrent"
expect_rc 3 get broken torrent
has "$err" "rill: $T/broken.torrent"
run seed "$TOR" "$T/no-such-dir"
expect_rc 4 seed missing dir
has "$err" "rill: $T/no-such-dir"
mkdir -p "$T/empty"
run seed "$TOR" "$T/empty"
expect_rc 4 seed without content
has "$err" "data.bin"
has "$err" "rill get"

# --- on loopback only: no trackers, no peers, an ephemeral port.
LOCAL=(--no-trackers --no-dht --no-lsd --bind 127.0.0.1 --port 0)

# Data already complete: checked, then exit 0 without any peer.
run get "$TOR" -o "$T/content" "${LOCAL[@]}" -q
expect_rc 0 get already complete
[ -z "$out" ] || fail "get -q printed on stdout: $out"
cmp -s "$T/content/data.bin" "$T/original.bin" || fail "get changed complete data"

# The same with --json-log: one JSON object per line, with the events.
run get "$TOR" -o "$T/content" "${LOCAL[@]}" -q --json-log
expect_rc 0 get --json-log
"$PY" - "$T/out" <<'EOF' || fail "bad --json-log output: $out"
import json, sys
events = [json.loads(line) for line in open(sys.argv[1], encoding='utf-8')]
names = [e.get('event') for e in events]
assert 'started' in names and 'complete' in names and names[-1] == 'stopped', names
started = next(e for e in events if e.get('event') == 'started')
assert started['name'] == 'data.bin' and started['total_size'] == 200000, started
assert 0 < started['port'] < 65536, started
done = next(e for e in events if e.get('event') == 'complete')
assert done['have'] == done['total'] == 200000, done
assert events[-1]['reason'] == 'complete', events[-1]
EOF

# Nothing to download from: Ctrl-C stops it (exit 1) within the bounded
# wait, and says how to resume.
mkdir -p "$T/leech"
"$RILL" get "$TOR" -o "$T/leech" "${LOCAL[@]}" >"$T/out" 2>"$T/err" &
pid=$!
track_pid "$pid"
sleep 1
kill -INT "$pid"
start=$SECONDS
set +e
wait "$pid"
rc=$?
set -e
err=$(cat "$T/err")
[ "$rc" -eq 1 ] || fail "get interrupted: exit $rc, want 1; stderr: $err"
[ $((SECONDS - start)) -le 5 ] || fail "get took $((SECONDS - start)) s to stop after SIGINT"
has "$err" "run the same command again to resume"

# A tracker that accepts connections and never answers: the waits for its
# announces are bounded (about 2 s after completion, 3 s after Ctrl-C).
"$PY" -c "import socket
s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(64)
print(s.getsockname()[1], flush=True)
held = []
while True: held.append(s.accept()[0])" >"$T/hang.port" &
track_pid $!
for _ in $(seq 50); do [ -s "$T/hang.port" ] && break; sleep 0.1; done
HANG="http://127.0.0.1:$(cat "$T/hang.port")/announce"
"$RILL" create "$T/content/data.bin" -o "$T/hang.torrent" -p 16K --no-date -q -t "$HANG" >/dev/null
start=$SECONDS
run get "$T/hang.torrent" -o "$T/content" --bind 127.0.0.1 --port 0 --no-dht --no-lsd -q
expect_rc 0 get complete with a silent tracker
[ $((SECONDS - start)) -le 6 ] || fail "get waited $((SECONDS - start)) s for a silent tracker"
mkdir -p "$T/leech2"
"$RILL" get "$T/hang.torrent" -o "$T/leech2" --bind 127.0.0.1 --port 0 --no-dht --no-lsd >"$T/out" 2>"$T/err" &
pid=$!
track_pid "$pid"
sleep 1
kill -INT "$pid"
start=$SECONDS
set +e
wait "$pid"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "get interrupted (silent tracker): exit $rc, want 1; $(cat "$T/err")"
[ $((SECONDS - start)) -le 6 ] || fail "get took $((SECONDS - start)) s to stop (silent tracker)"

# A seeder runs until SIGTERM, then exits 0.
"$RILL" seed "$TOR" "$T/content" "${LOCAL[@]}" --json-log >"$T/out" 2>"$T/err" &
pid=$!
track_pid "$pid"
for _ in $(seq 50); do
    grep -q '"state": "seeding"' "$T/out" && break
    sleep 0.2
done
grep -q '"state": "seeding"' "$T/out" || fail "seed never reported seeding: $(cat "$T/out" "$T/err")"
kill -TERM "$pid"
set +e
wait "$pid"
rc=$?
set -e
[ "$rc" -eq 0 ] || fail "seed stopped by SIGTERM: exit $rc, want 0; stderr: $(cat "$T/err")"
tail -n 1 "$T/out" | grep -q '"event": "stopped"' || fail "no stopped event: $(cat "$T/out")"

echo "ok: get_usage"
