#!/usr/bin/env bash
# rill's command line itself: help, version, unknown commands and options,
# bad arguments, and the exit statuses documented in rill(1).
. "$(dirname "$0")/../lib/common.sh"

# --- version and help: stdout, exit 0, nothing on stderr.
run --version
expect_rc 0 --version
[ "$out" = "rill 0.1.0" ] || fail "--version printed '$out'"
[ -z "$err" ] || fail "--version wrote to stderr: $err"

for args in "--help" "-h" "help"; do
    run $args
    expect_rc 0 "$args"
    for word in create info verify "Exit status" "invalid input" "I/O"; do
        has "$out" "$word"
    done
    [ -z "$err" ] || fail "$args wrote to stderr: $err"
done

for cmd in create info verify; do
    run help "$cmd"
    expect_rc 0 help "$cmd"
    has "$out" "Usage: rill $cmd"
    help_text=$out
    run "$cmd" --help
    expect_rc 0 "$cmd" --help
    [ "$out" = "$help_text" ] || fail "'rill help $cmd' and 'rill $cmd --help' differ"
done
run help create
has "$out" "--piece-size"
has "$out" "--force"
run help verify
has "$out" "0 all pieces good, 1 bad or missing data"

# --- usage errors: exit 2 with a hint on stderr and nothing on stdout.
usage_error() {
    run "$@"
    expect_rc 2 "$@"
    [ -z "$out" ] || fail "rill $*: usage error wrote to stdout: $out"
    has "$err" "rill"
}
usage_error
has "$err" "Usage: rill COMMAND"
usage_error frobnicate
has "$err" "rill: unknown command 'frobnicate'"
has "$err" "rill --help"
usage_error --frobnicate
has "$err" "unknown option '--frobnicate'"
usage_error help frobnicate
has "$err" "unknown command 'frobnicate'"

usage_error create --bogus x
has "$err" "--bogus"
has "$err" "Try 'rill create --help'."
usage_error create
has "$err" "missing PATH"
usage_error create a b
usage_error create "$T" --piece-size
usage_error create "$T" --piece-size 3K
has "$err" "power of two"
usage_error create "$T" --piece-size 8K
usage_error create "$T" --piece-size 256M
usage_error create "$T" --piece-size 1.5M
usage_error create "$T" --piece-size 256Q
has "$err" "invalid piece size '256Q'"
usage_error create "$T" --piece-size 99999999999999999999G
usage_error create "$T" --piece-size -256K
usage_error create "$T" --threads -1
usage_error create "$T" -j many
usage_error create "$T" -j 100000
usage_error info
usage_error info a.torrent b.torrent
usage_error info --verbose a.torrent
has "$err" "Try 'rill info --help'."
usage_error verify
usage_error verify only-one-arg
usage_error verify a b c
usage_error verify a b --threads x
has "$err" "Try 'rill verify --help'."
# Nothing was created by the refused commands.
left=$(find "$T" -name '*.torrent*')
[ -z "$left" ] || fail "usage errors left files: $left"

# --- options may follow the operands, and -- ends them.
run info --json -- --not-an-option
expect_rc 4 info -- --not-an-option
has "$err" "rill: --not-an-option"

# --- a failed write of the output is an I/O error, not success.
if [ -w /dev/full ]; then
    set +e
    "$RILL" --version >/dev/full 2>"$T/err"
    rc=$?
    set -e
    [ "$rc" -eq 4 ] || fail "--version >/dev/full: exit $rc, want 4"
    grep -q "rill: cannot write" "$T/err" || fail "no write error message: $(cat "$T/err")"
fi

echo "ok: usage"
