#!/usr/bin/env bash
# rill create's options: never overwrite without --force, atomic output,
# output naming, reproducible bytes, dates, private, source, hidden files.
. "$(dirname "$0")/../lib/common.sh"

hash_of() { "$RILL" info "$1" --json | "$PY" -c "import json,sys; print(json.load(sys.stdin)['info_hash'])"; }

mkdir -p "$T/src/d" "$T/out_dir"
head -c 50000 /dev/urandom >"$T/src/d/one"
head -c 70000 /dev/urandom >"$T/src/two"
echo hidden >"$T/src/.dotfile"
cd "$T/out_dir"

# --- default output name in the current directory; no temporary left over.
run create ../src --no-date -c first
expect_rc 0 "create"
[ -f src.torrent ] || fail "no src.torrent in the current directory: $(ls)"
[ "$(ls)" = "src.torrent" ] || fail "stray files next to the output: $(ls)"
has "$out" "src.torrent"
cp src.torrent first.copy

# --- refuses to overwrite, before hashing, leaving the file intact.
run create ../src --no-date -c second
[ "$rc" -ne 0 ] || fail "create overwrote an existing output"
expect_rc 4 "create (exists)"
has "$err" "rill: src.torrent already exists"
has "$err" "--force"
cmp -s src.torrent first.copy || fail "refused create still changed src.torrent"
[ "$(ls | sort | tr '\n' ' ')" = "first.copy src.torrent " ] || fail "stray files: $(ls)"
run create ../src -o first.copy
expect_rc 4 "create -o existing"

# --- --force replaces it.
run create ../src --no-date -c second --force
expect_rc 0 "create --force"
cmp -s src.torrent first.copy && fail "--force did not replace src.torrent"
run info src.torrent --json
json_check "assert d['comment'] == 'second', d['comment']"

# --- --no-date is reproducible; the date otherwise is now or SOURCE_DATE_EPOCH.
run create ../src --no-date -c first -o again.torrent
expect_rc 0 "create again"
cmp -s again.torrent first.copy || fail "--no-date output is not reproducible"
SOURCE_DATE_EPOCH=1700000000 "$RILL" create ../src -o dated.torrent -q >/dev/null
run info dated.torrent
has "$out" "creation date:"
has "$out" "2023-11-14T22:13:20Z"
run info dated.torrent --json
json_check "assert d['creation_date'] == 1700000000, d['creation_date']"
before=$(date +%s)
run create ../src -o now.torrent
expect_rc 0 "create (dated now)"
run info now.torrent --json
json_check "assert abs(d['creation_date'] - $before) < 60, d['creation_date']"

# --- private, source and hidden change what is hashed.
run create ../src --no-date -o private.torrent --private
run info private.torrent
has "$out" "private:"
has "$out" "yes"
run info private.torrent --json
json_check "assert d['private'] is True"
[ "$(hash_of private.torrent)" != "$(hash_of first.copy)" ] || fail "--private kept the info-hash"
run create ../src --no-date -o sourced.torrent --source TRACKER-A
[ "$(hash_of sourced.torrent)" != "$(hash_of first.copy)" ] || fail "--source kept the info-hash"
run info first.copy --json
json_check "assert sorted(f['path'] for f in d['files']) == ['d/one', 'two'], d['files']"
run create ../src --no-date -o hidden.torrent --hidden
expect_rc 0 "create --hidden"
run info hidden.torrent --json
json_check "assert '.dotfile' in [f['path'] for f in d['files']], d['files']"

# --- piece size and trackers.
run create ../src --no-date -o p32.torrent --piece-size 32K -t udp://a.example:6969/announce
expect_rc 0 "create --piece-size 32K"
run info p32.torrent --json
json_check "
assert d['piece_length'] == 32768
assert d['pieces'] == (120000 + 32767) // 32768, d['pieces']
assert d['trackers'] == [['udp://a.example:6969/announce']], d['trackers']"

# --- JSON result and the text summary agree with info.
run create ../src --no-date -o j.torrent --json
expect_rc 0 "create --json"
json_check "
assert d['output'] == 'j.torrent' and d['name'] == 'src' and d['total_size'] == 120000"

# --- errors: input missing, output directory missing.
run create ../no-such-thing
expect_rc 4 "create (missing input)"
has "$err" "rill: ../no-such-thing"
run create ../src -o "$T/no-such-dir/x.torrent"
expect_rc 4 "create (missing output directory)"
has "$err" "rill: $T/no-such-dir/x.torrent"
lacks "$(ls "$T")" "no-such-dir"

echo "ok: create_opts"
