#!/usr/bin/env bash
# create -> info (text and JSON) -> verify good; then a corrupted byte, a
# deleted file and a truncated file make verify fail and name the file.
. "$(dirname "$0")/../lib/common.sh"

# Deterministic content: SIZE pseudo-random bytes from SEED.
gen() { "$PY" -c "import random,sys
r = random.Random(int(sys.argv[2])); sys.stdout.buffer.write(r.randbytes(int(sys.argv[3])))" \
    x "$2" "$3" >"$1"; }
poke() { printf '\x5a' | dd of="$1" bs=1 seek="$2" conv=notrunc status=none; }

# --- content: three files in two levels and a hidden file left out.
C=$T/content
mkdir -p "$C/sub/deeper"
gen "$C/a.bin" 1 700000
printf 'hello\n' >"$C/sub/b.txt"
gen "$C/sub/deeper/c.dat" 2 200000
echo secret >"$C/.hidden"
TOTAL=$((700000 + 6 + 200000))
PIECES=$(((TOTAL + 65535) / 65536))

cd "$T"
run create content -p 64K -t http://t1.example/announce \
    -t http://t2.example/a,http://t3.example/a -w http://ws.example/files/ \
    -c "a comment" -s SRC --no-date --json
expect_rc 0 create
[ -f "$T/content.torrent" ] || fail "create did not write content.torrent in the current directory"
json_check "
assert d['output'] == 'content.torrent', d['output']
assert d['name'] == 'content'
assert d['total_size'] == $TOTAL, d['total_size']
assert d['piece_length'] == 65536
assert d['pieces'] == $PIECES, d['pieces']
assert d['file_count'] == 3, d['file_count']
assert len(d['info_hash']) == 40 and int(d['info_hash'], 16) >= 0
assert d['magnet'].startswith('magnet:?xt=urn:btih:' + d['info_hash']), d['magnet']"
HASH=$("$PY" -c "import json,sys; print(json.load(open(sys.argv[1]))['info_hash'])" "$T/out")
[ -z "$err" ] || fail "create wrote to stderr without a tty: $err"

# An independent implementation agrees on the info-hash.
if "$PY" -c "import libtorrent" 2>/dev/null; then
    lt_hash=$("$PY" -c "import libtorrent as lt,sys
print(str(lt.torrent_info(sys.argv[1]).info_hash()))" "$T/content.torrent")
    [ "$lt_hash" = "$HASH" ] || fail "libtorrent says $lt_hash, rill says $HASH"
fi

# --- info as text.
run info content.torrent
expect_rc 0 info
has "$out" "content"
has "$out" "$HASH"
has "$out" "($TOTAL bytes)"
has "$out" "$PIECES x 64.0 KiB"
has "$out" "a.bin"
has "$out" "b.txt"
has "$out" "deeper/"
has "$out" "c.dat"
has "$out" "684 KiB"          # a.bin
has "$out" "195 KiB"          # c.dat
has "$out" "6 B"              # b.txt
has "$out" "http://t1.example/announce"
has "$out" "http://ws.example/files/"
has "$out" "a comment"
has "$out" "SRC"
has "$out" "magnet:?xt=urn:btih:$HASH"
has "$out" "private:"
lacks "$out" ".hidden"
lacks "$out" "creation date"  # --no-date

# --- info as JSON.
run info content.torrent --json
expect_rc 0 info --json
json_check "
assert d['name'] == 'content'
assert d['info_hash'] == '$HASH'
assert d['total_size'] == $TOTAL and d['piece_length'] == 65536 and d['pieces'] == $PIECES
files = {f['path']: f['length'] for f in d['files'] if 'p' not in f['attr']}
assert files == {'a.bin': 700000, 'sub/b.txt': 6, 'sub/deeper/c.dat': 200000}, files
assert d['trackers'] == [['http://t1.example/announce'],
                         ['http://t2.example/a', 'http://t3.example/a']], d['trackers']
assert d['web_seeds'] == ['http://ws.example/files/'], d['web_seeds']
assert d['private'] is False
assert d['creation_date'] is None
assert d['comment'] == 'a comment' and d['source'] == 'SRC'
assert d['created_by'].startswith('rill'), d['created_by']
assert d['magnet'].startswith('magnet:?xt=urn:btih:$HASH')"

# --- verify: good, from the download directory and from the content itself.
run verify content.torrent "$T"
expect_rc 0 verify
has "$out" "all $PIECES pieces are good"
[ -z "$err" ] || fail "a quick verify without a tty printed progress: $err"
run verify content.torrent "$C"
expect_rc 0 "verify (pointing at the content)"
run verify content.torrent "$C/" --json --threads 2
expect_rc 0 verify --json
json_check "
assert d['ok'] is True and d['good'] == $PIECES and d['bad'] == 0 and d['missing'] == 0, d
assert d['files'] == [], d['files']"
run verify content.torrent "$T" --json --verbose
expect_rc 0 verify --verbose
json_check "assert sorted(f['path'] for f in d['files']) == ['a.bin', 'sub/b.txt', 'sub/deeper/c.dat']"

# --- one corrupted byte in c.dat: exit 1, c.dat named, a.bin not.
cp "$C/sub/deeper/c.dat" "$T/c.orig"
poke "$C/sub/deeper/c.dat" 100000
run verify content.torrent "$T"
expect_rc 1 "verify (corrupt)"
has "$out" "c.dat"
has "$out" "bad"
lacks "$out" "a.bin"
run verify content.torrent "$T" --json
expect_rc 1 "verify --json (corrupt)"
json_check "
assert d['ok'] is False and d['bad'] == 1 and d['missing'] == 0, d
assert d['good'] == $PIECES - 1
assert [f['path'] for f in d['files']] == ['sub/deeper/c.dat'], d['files']
assert d['files'][0]['status'] == 'bad' and d['files'][0]['bad'] == 1
assert d['bytes_needed'] == 65536"
cp "$T/c.orig" "$C/sub/deeper/c.dat"

# --- a deleted file: its pieces are missing, not bad.
mv "$C/sub/b.txt" "$T/b.orig"
run verify content.torrent "$T"
expect_rc 1 "verify (deleted)"
has "$out" "b.txt"
has "$out" "missing"
run verify content.torrent "$T" --json
json_check "
assert d['missing'] >= 1 and d['bad'] == 0, d
st = {f['path']: f['status'] for f in d['files']}
assert st.get('sub/b.txt') == 'missing', st"
mv "$T/b.orig" "$C/sub/b.txt"

# --- a truncated file: the pieces past its end are missing.
truncate -s 300000 "$C/a.bin"
run verify content.torrent "$T" --json
expect_rc 1 "verify (truncated)"
json_check "
assert d['missing'] >= 1, d
assert 'a.bin' in [f['path'] for f in d['files']], d['files']"
gen "$C/a.bin" 1 700000
run verify content.torrent "$T"
expect_rc 0 "verify (restored)"

# --- everything gone, or a directory that does not exist.
mkdir "$T/empty"
run verify content.torrent "$T/empty"
expect_rc 1 "verify (nothing there)"
has "$out" "missing:"
run verify content.torrent "$T/no-such-dir"
expect_rc 4 "verify (no such directory)"
has "$err" "rill: $T/no-such-dir"

# --- a single-file torrent, verified via its directory or the file itself.
gen "$T/single.iso" 3 100000
run create single.iso -o "$T/single.torrent" --piece-size 16K
expect_rc 0 "create single"
has "$out" "single.torrent"
run info single.torrent --json
json_check "
assert d['multi_file'] is False and d['name'] == 'single.iso'
assert [(f['path'], f['length']) for f in d['files']] == [('single.iso', 100000)], d['files']"
run verify single.torrent "$T"
expect_rc 0 "verify single (directory)"
run verify single.torrent "$T/single.iso"
expect_rc 0 "verify single (the file)"
poke "$T/single.iso" 0
run verify single.torrent "$T/single.iso"
expect_rc 1 "verify single (corrupt)"
has "$out" "single.iso"

echo "ok: create_verify"
