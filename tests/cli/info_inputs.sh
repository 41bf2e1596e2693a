#!/usr/bin/env bash
# rill info on every kind of input: magnet links (hex and base32), torrents
# from other tools, hand-made torrents with padding files and unsafe paths,
# standard input, and broken input (exit 3 with a `rill:` message).
. "$(dirname "$0")/../lib/common.sh"

# invalid ARGS...: rill must exit 3 and say `rill: ...` on stderr, nothing on stdout.
invalid() {
    run "$@"
    expect_rc 3 "$@"
    [ -z "$out" ] || fail "rill $*: printed on stdout despite the error: $out"
    [[ "$err" == rill:* ]] || fail "rill $*: error does not start with 'rill:': $err"
}

# A tiny bencoder, so the torrents below are written byte for byte.
cat >"$T/mk.py" <<'EOF'
import hashlib, sys
def be(v):
    if isinstance(v, int): return b'i%de' % v
    if isinstance(v, str): v = v.encode()
    if isinstance(v, bytes): return b'%d:%s' % (len(v), v)
    if isinstance(v, list): return b'l' + b''.join(be(x) for x in v) + b'e'
    return b'd' + b''.join(be(k) + be(v[k]) for k in sorted(v, key=lambda k: k if isinstance(k, bytes) else k.encode())) + b'e'
def torrent(path, info, **outer):
    outer['info'] = info
    open(path, 'wb').write(be(outer))
    print(hashlib.sha1(be(info)).hexdigest())
kind, path = sys.argv[1], sys.argv[2]
P = 16384
if kind == 'padded':
    files = [{'length': 1000, 'path': ['a.txt']},
             {'length': P - 1000, 'path': ['.pad', str(P - 1000)], 'attr': 'p'},
             {'length': 5000, 'path': ['bin', 'run.sh'], 'attr': 'x'}]
    torrent(path, {'name': 'padded', 'piece length': P, 'pieces': b'\0' * 40, 'files': files},
            announce='http://tracker.example/announce', **{'creation date': 1700000000})
elif kind == 'unsafe':
    files = [{'length': 10, 'path': [b'ctrl\x1b[2Jname']}, {'length': 10, 'path': [b'bad\xffutf8']}]
    torrent(path, {'name': 'unsafe', 'piece length': P, 'pieces': b'\0' * 20, 'files': files})
elif kind == 'traversal':
    files = [{'length': 10, 'path': ['..', 'etc', 'passwd']}]
    torrent(path, {'name': 'evil', 'piece length': P, 'pieces': b'\0' * 20, 'files': files})
elif kind == 'nopieces':
    torrent(path, {'name': 'x', 'piece length': P, 'length': 10})
EOF

# --- magnet links.
H=c12fe1c06bba254a9dc9f519b335aa7c1367a88a
run info "magnet:?xt=urn:btih:$H&dn=Some%20Name&tr=udp%3A%2F%2Ftr.example%3A6969&ws=http%3A%2F%2Fws.example%2F&x.pe=192.0.2.1:6881"
expect_rc 0 "info magnet"
has "$out" "magnet link"
has "$out" "$H"
has "$out" "Some Name"
has "$out" "udp://tr.example:6969"
has "$out" "http://ws.example/"
has "$out" "192.0.2.1:6881"
run info "magnet:?xt=urn:btih:$H&dn=Some%20Name&tr=udp%3A%2F%2Ftr.example%3A6969&x.pe=192.0.2.1:6881" --json
expect_rc 0 "info magnet --json"
json_check "
assert d['type'] == 'magnet' and d['info_hash'] == '$H' and d['name'] == 'Some Name', d
assert d['trackers'] == ['udp://tr.example:6969'] and d['peers'] == ['192.0.2.1:6881'], d
assert d['magnet'].startswith('magnet:?xt=urn:btih:$H'), d['magnet']"
B32=$("$PY" -c "import base64; print(base64.b32encode(bytes.fromhex('$H')).decode())")
run info "magnet:?xt=urn:btih:$B32" --json
expect_rc 0 "info magnet (base32)"
json_check "assert d['info_hash'] == '$H' and d['name'] is None, d"
UPPER=$(tr a-f A-F <<<"$H")
run info "MAGNET:?xt=urn:btih:$UPPER"
expect_rc 0 "info magnet (upper case)"
has "$out" "$H"

invalid info "magnet:?xt=urn:btih:1234"
has "$err" "magnet"
has "$err" "byte"
invalid info "magnet:?dn=no-hash"
invalid info "magnet:?xt=urn:btih:$H&dn=%zz"

# --- a hand-made torrent with a BEP 47 padding file and an executable.
PH=$("$PY" "$T/mk.py" padded "$T/padded.torrent")
run info "$T/padded.torrent"
expect_rc 0 "info padded"
has "$out" "$PH"
has "$out" "(1 padding file)"
has "$out" "run.sh"
has "$out" "[executable]"
has "$out" "2023-11-14T22:13:20Z"
lacks "$out" ".pad"
run info "$T/padded.torrent" --json
json_check "
assert d['info_hash'] == '$PH' and d['padding_files'] == 1
assert [(f['path'], f['attr']) for f in d['files']] == \
    [('a.txt', ''), ('.pad/15384', 'p'), ('bin/run.sh', 'x')], d['files']
assert d['trackers'] == [['http://tracker.example/announce']], d['trackers']
assert d['creation_date'] == 1700000000 and d['total_size'] == 16384 + 5000"

# --- standard input.
run info - <"$T/padded.torrent"
expect_rc 0 "info -"
has "$out" "$PH"

# --- unsafe but fixable names are renamed and counted; '..' is refused.
UH=$("$PY" "$T/mk.py" unsafe "$T/unsafe.torrent")
run info "$T/unsafe.torrent"
expect_rc 0 "info unsafe"
has "$out" "$UH"
has "$out" "2 path components were renamed for safety"
if LC_ALL=C grep -q $'\x1b' "$T/out"; then fail "an escape character reached the terminal"; fi
run info "$T/unsafe.torrent" --json
json_check "assert d['renamed'] == 2, d['renamed']"
"$PY" "$T/mk.py" traversal "$T/evil.torrent" >/dev/null
invalid info "$T/evil.torrent"
has "$err" "$T/evil.torrent"

# --- broken torrents: exit 3, the file named, a byte offset for parse errors.
printf 'this is not bencode' >"$T/garbage.torrent"
invalid info "$T/garbage.torrent"
has "$err" "rill: $T/garbage.torrent:"
has "$err" "at byte"
head -c 100 "$T/padded.torrent" >"$T/truncated.torrent"
invalid info "$T/truncated.torrent"
has "$err" "at byte"
{ cat "$T/padded.torrent"; printf 'junk'; } >"$T/trailing.torrent"
invalid info "$T/trailing.torrent"
: >"$T/empty.torrent"
invalid info "$T/empty.torrent"
printf 'de' >"$T/nodict.torrent"
invalid info "$T/nodict.torrent"
"$PY" "$T/mk.py" nopieces "$T/nopieces.torrent" >/dev/null
invalid info "$T/nopieces.torrent"
invalid verify "$T/garbage.torrent" "$T"
invalid info - <"$T/garbage.torrent"

# --- I/O errors: exit 4.
run info "$T/no-such.torrent"
expect_rc 4 "info (missing file)"
has "$err" "rill: $T/no-such.torrent"
run info "$T"
expect_rc 4 "info (a directory)"
has "$err" "rill: "

# --- torrents made by other tools read the same.
mkdir -p "$T/other/sub"
head -c 123456 /dev/urandom >"$T/other/sub/f1"
head -c 4567 /dev/urandom >"$T/other/f2"
if command -v mktorrent >/dev/null; then
    mktorrent -l 15 -a http://mk.example/announce -o "$T/mk.torrent" "$T/other" >/dev/null
    run info "$T/mk.torrent" --json
    expect_rc 0 "info (mktorrent)"
    json_check "
assert d['name'] == 'other' and d['total_size'] == 123456 + 4567 and d['piece_length'] == 32768
assert sorted(f['path'] for f in d['files']) == ['f2', 'sub/f1'], d['files']"
    run verify "$T/mk.torrent" "$T"
    expect_rc 0 "verify (mktorrent)"
fi
if "$PY" -c "import libtorrent" 2>/dev/null && [ -f "$T/mk.torrent" ]; then
    lt=$("$PY" -c "import libtorrent as lt,sys; print(lt.torrent_info(sys.argv[1]).info_hash())" "$T/mk.torrent")
    run info "$T/mk.torrent"
    has "$out" "$lt"
fi

echo "ok: info_inputs"
