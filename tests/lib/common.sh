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
