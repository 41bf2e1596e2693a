# Shared helpers for rill's shell tests. Source it; it sets $RILL from $1,
# makes $WORK (removed on exit) and kills every PID registered with track_pid.
set -euo pipefail
RILL=${1:?usage: test.sh PATH_TO_RILL}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/rill-test.XXXXXX")
PIDS=()
track_pid() { PIDS+=("$1"); }
cleanup() {
  for pid in "${PIDS[@]:-}"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]:-}"; do [ -n "$pid" ] && wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }
# Deterministic pseudo-random content of N bytes.
gen_file() { # PATH BYTES SEED
  head -c "$2" <(openssl enc -aes-128-ctr -nosalt -pass "pass:$3" -pbkdf2 -iter 1 </dev/zero 2>/dev/null) > "$1"
}
need() { command -v "$1" >/dev/null 2>&1 || fail "missing tool $1 (run ./dev.sh deps)"; }
PY=/usr/bin/python3
T=$WORK
# run ARGS...: runs rill, keeping stdout in $out, stderr in $err, status in $rc.
run() {
  set +e
  "$RILL" "$@" >"$T/out" 2>"$T/err"
  rc=$?
  set -e
  out=$(cat "$T/out")
  err=$(cat "$T/err")
}
expect_rc() { [ "$rc" -eq "$1" ] || fail "rill ${*:2}: exit $rc, want $1; stderr: $err; stdout: $out"; }
has() { grep -qF -- "$2" <<<"$1" || fail "expected '$2' in: $1"; }
lacks() { ! grep -qF -- "$2" <<<"$1" || fail "did not expect '$2' in: $1"; }
# json_check 'PYTHON': runs Python assertions with the last stdout parsed as `d`.
json_check() {
  "$PY" -c "import json,sys
d = json.load(open(sys.argv[1], encoding='utf-8'))
$1" "$T/out" || fail "JSON check failed on: $out"
}
