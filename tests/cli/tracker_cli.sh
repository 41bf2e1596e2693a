#!/usr/bin/env bash
# rill tracker from the command line: help and usage errors, a missing or
# broken whitelist, then a real run on loopback: the ports it logs, an
# announce and /stats, a SIGHUP reload of the whitelist, and SIGTERM ending
# it with status 0 and a summary.
. "$(dirname "$0")/../lib/common.sh"

run tracker --help
expect_rc 0 tracker --help
has "$out" "Usage: rill tracker"
has "$out" "--whitelist FILE"

run tracker --bogus
expect_rc 2 tracker --bogus
has "$err" "Try 'rill tracker --help'."
run tracker --http nonsense
expect_rc 2 tracker --http nonsense
has "$err" "bad HTTP address"
run tracker --interval soon
expect_rc 2 tracker --interval soon
run tracker --http 127.0.0.1:0 --whitelist "$T/none"
expect_rc 3 tracker --whitelist missing
has "$err" "cannot open"
printf 'zz\n' >"$T/bad.list"
run tracker --http 127.0.0.1:0 --whitelist "$T/bad.list"
expect_rc 3 tracker --whitelist bad
has "$err" "whitelist line 1"

# A real run.
hash_a=a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5
hash_b=b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6
printf '%s\n' "$hash_a" >"$T/allow.list"
"$RILL" tracker --http 127.0.0.1:0 --udp 127.0.0.1:0 --whitelist "$T/allow.list" \
  >"$T/tr.out" 2>"$T/tr.log" &
pid=$!
track_pid "$pid"
for _ in $(seq 100); do grep -q "UDP tracker on" "$T/tr.log" && break; sleep 0.1; done
port=$(sed -n 's/.*HTTP tracker on 127.0.0.1:0 (port \([0-9]*\)).*/\1/p' "$T/tr.log")
[ -n "$port" ] || fail "no HTTP port in the log: $(cat "$T/tr.log")"
has "$(cat "$T/tr.log")" "whitelist $T/allow.list: 1 info-hashes"

HARNESS=$(dirname "$0")/../interop/lib/harness.py
url=http://127.0.0.1:$port/announce
"$PY" "$HARNESS" probe "$url" "$hash_a" || fail "the tracker refused a whitelisted hash"
set +e
"$PY" "$HARNESS" probe "$url" "$hash_b" 2>"$T/probe.err"
prc=$?
set -e
[ "$prc" -eq 1 ] || fail "a hash off the whitelist was not refused (status $prc)"
has "$(cat "$T/probe.err")" "whitelist"

stats=$("$PY" -c "import urllib.request,sys; print(urllib.request.urlopen(sys.argv[1]).read().decode())" \
  "http://127.0.0.1:$port/stats")
has "$stats" '"announces": 2'

printf '%s\n%s\n' "$hash_a" "$hash_b" >"$T/allow.list"
kill -HUP "$pid"
for _ in $(seq 50); do grep -q "2 info-hashes" "$T/tr.log" && break; sleep 0.1; done
has "$(cat "$T/tr.log")" "2 info-hashes"
"$PY" "$HARNESS" probe "$url" "$hash_b" || fail "the reloaded whitelist was not in force"

kill -TERM "$pid"
set +e
wait "$pid"
trc=$?
set -e
[ "$trc" -eq 0 ] || fail "rill tracker exited $trc after SIGTERM"
has "$(cat "$T/tr.log")" "served 4 announces"
pass "rill tracker: usage, whitelist errors, serve, reload on SIGHUP, stop on SIGTERM"
