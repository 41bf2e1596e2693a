#!/usr/bin/env bash
# Odd names and text: quotes, newlines, tabs, UTF-8, invalid UTF-8 and
# terminal escapes must come out as valid JSON that round-trips, and as
# escaped (never raw control characters) text. Also size formatting.
. "$(dirname "$0")/../lib/common.sh"

D=$T/odd
mkdir -p "$D/dir \"q\""
printf 'x%.0s' $(seq 1536) >"$D/quote\"d.txt"        # 1536 bytes: 1.50 KiB
printf 'newline\n' >"$D/new"$'\n'"line.txt"
printf 'tab\n' >"$D/tab"$'\t'".txt"
printf 'utf8\n' >"$D/café ☕.txt"
printf 'esc\n' >"$D/"$'\e'"[31mred.txt"
printf 'inner\n' >"$D/dir \"q\"/inner.txt"

comment=$'multi\nline "quoted" \\ back\ttab \x01 ctrl caf\xc3\xa9 \xe2\x98\x95'
cd "$T"
run create odd --no-date -p 16K -c "$comment" -s $'bad\xffbyte'
expect_rc 0 "create (odd names)"

# --- JSON: valid, strings round-trip, unsafe names were renamed.
run info odd.torrent --json
expect_rc 0 "info --json"
"$PY" - "$T/out" "$comment" <<'EOF' || fail "JSON content wrong: $out"
import json, os, sys
raw = open(sys.argv[1], 'rb').read()
raw.decode('utf-8')                      # the output itself is valid UTF-8
d = json.loads(raw)
comment = os.fsencode(sys.argv[2]).decode('utf-8')
assert d['comment'] == comment, (d['comment'], comment)
assert d['source'] == 'bad\ufffdbyte', d['source']
paths = sorted(f['path'] for f in d['files'] if 'p' not in f['attr'])
assert len(paths) == 6, paths
assert 'quote"d.txt' in paths, paths
assert 'café ☕.txt' in paths, paths
assert 'dir "q"/inner.txt' in paths, paths
for p in paths:                          # control characters never survive
    assert not any(ord(c) < 0x20 or ord(c) == 0x7f for c in p), repr(p)
assert any(p.startswith('new') and p.endswith('line.txt') for p in paths), paths
assert d['renamed'] >= 3, d['renamed']   # newline, tab, escape
sizes = {f['path']: f['length'] for f in d['files']}
assert sizes['quote"d.txt'] == 1536
EOF

# --- text: the comment's control characters are shown escaped, UTF-8 as is.
run info odd.torrent
expect_rc 0 "info (text)"
has "$out" 'multi\x0aline "quoted" \ back\x09tab \x01 ctrl café ☕'
has "$out" 'bad\xffbyte'
has "$out" 'quote"d.txt'
has "$out" 'café ☕.txt'
has "$out" '1.50 KiB'
has "$out" 'renamed for safety'
if LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' "$T/out"; then
    fail "text output holds raw control characters: $(od -c "$T/out" | head)"
fi

# --- verify finds and names files with quotes, spaces and UTF-8. (Names
# that were renamed for safety live under their safe names on disk, so
# they are left out here.)
F=$T/fine
mkdir -p "$F/dir \"q\""
printf 'utf8\n' >"$F/café ☕.txt"
printf 'quote\n' >"$F/quote\"d.txt"
printf 'inner\n' >"$F/dir \"q\"/inner.txt"
run create fine --no-date -p 16K
expect_rc 0 "create (fine names)"
run verify fine.torrent "$T"
expect_rc 0 "verify (fine names)"
printf 'UTF8\n' >"$F/café ☕.txt"
run verify fine.torrent "$T"
expect_rc 1 "verify (fine names, corrupt)"
has "$out" 'café ☕.txt'
run verify fine.torrent "$T" --json
json_check "
bad = [f['path'] for f in d['files'] if f['status'] == 'bad']
assert 'café ☕.txt' in bad, d['files']"

# --- sizes in text output: bytes, KiB and the exact count.
mkdir "$T/sizes"
head -c 262144 /dev/zero >"$T/sizes/quarter"
head -c 1048576 /dev/zero >"$T/sizes/mib"
head -c 1023 /dev/zero >"$T/sizes/small"
run create sizes -o sizes.torrent
expect_rc 0 "create sizes"
run info sizes.torrent
has "$out" "256 KiB"
has "$out" "1.00 MiB"
has "$out" "1023 B"
has "$out" "1.25 MiB (1311743 bytes)"

echo "ok: odd_names"
