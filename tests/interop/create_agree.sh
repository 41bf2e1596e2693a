#!/usr/bin/env bash
# rill create agrees with mktorrent and libtorrent on the info-hash for the
# same content, name, piece size and tracker; transmission-create's pieces
# match; transmission-show, aria2c and libtorrent read rill's torrents.
. "$(dirname "$0")/../lib/common.sh"
need mktorrent; need transmission-show; need transmission-create; need aria2c
TRACKER=http://127.0.0.1:6969/announce

mkdir -p "$WORK/single" "$WORK/tree/sub/deeper" "$WORK/tree/other"
gen_file "$WORK/single/movie.bin" 3000000 1
gen_file "$WORK/tree/a.txt" 1000 2
gen_file "$WORK/tree/sub/b.bin" 700000 3
gen_file "$WORK/tree/sub/deeper/c.dat" 400000 4
gen_file "$WORK/tree/other/d" 262144 5
gen_file "$WORK/tree/sub.txt" 77 6
: > "$WORK/tree/empty.txt"

info_hash() { "$RILL" info --json "$1" | $PY -c 'import json,sys; print(json.load(sys.stdin)["info_hash"])'; }
lt_hash() { # PATH PIECE_SIZE -> info-hash of a v1-only libtorrent torrent
  $PY - "$1" "$2" "$TRACKER" <<'PY'
import sys, os, libtorrent as lt
path, piece, tracker = sys.argv[1], int(sys.argv[2]), sys.argv[3]
# lt.add_files lists a directory in readdir order, which no two machines
# share; give libtorrent the files in rill's (and mktorrent's) documented
# order instead: full relative path, byte-wise.
fs = lt.file_storage()
if os.path.isdir(path):
    name = os.path.basename(path); rels = []
    for d, _, files in os.walk(path):
        rels += [os.path.relpath(os.path.join(d, f), path) for f in files]
    for rel in sorted(rels, key=lambda r: r.encode()):
        fs.add_file(name + "/" + rel, os.path.getsize(os.path.join(path, rel)))
else:
    lt.add_files(fs, path)
t = lt.create_torrent(fs, piece, flags=lt.create_torrent.v1_only)
t.add_tracker(tracker)
lt.set_piece_hashes(t, os.path.dirname(path))
print(lt.torrent_info(lt.bencode(t.generate())).info_hash())
PY
}
pieces_of() { # TORRENT -> hex of the pieces string, through libtorrent
  $PY -c 'import sys,libtorrent as lt; ti=lt.torrent_info(sys.argv[1]); print("".join(str(ti.hash_for_piece(i)) for i in range(ti.num_pieces())))' "$1"
}

for target in single/movie.bin tree; do
  for piece in 32K 256K; do
    bytes=$(( ${piece%K} * 1024 )); log2=$($PY -c "print(($bytes).bit_length()-1)")
    out="$WORK/rill-$(basename $target)-$piece.torrent"
    "$RILL" create "$WORK/$target" --piece-size "$piece" --tracker "$TRACKER" --no-date -o "$out" >/dev/null
    ours=$(info_hash "$out")
    mk="$WORK/mk.torrent"; rm -f "$mk"
    mktorrent -l "$log2" -a "$TRACKER" -o "$mk" "$WORK/$target" >/dev/null
    theirs=$(info_hash "$mk")
    [ "$ours" = "$theirs" ] || fail "$target $piece: rill $ours, mktorrent $theirs"
    lt=$(lt_hash "$WORK/$target" "$bytes")
    [ "$ours" = "$lt" ] || fail "$target $piece: rill $ours, libtorrent $lt"
    tc="$WORK/tc.torrent"; rm -f "$tc"
    transmission-create -s "${piece%K}" -o "$tc" "$WORK/$target" >/dev/null
    [ "$(pieces_of "$out")" = "$(pieces_of "$tc")" ] || fail "$target $piece: pieces differ from transmission-create"
    pass "$target piece $piece: info-hash $ours equals mktorrent and libtorrent; pieces equal transmission-create"

    transmission-show "$out" > "$WORK/show.txt" 2>&1 || fail "transmission-show rejected $out"
    grep -qi "$ours" "$WORK/show.txt" || fail "transmission-show does not print hash $ours"
    aria2c -S "$out" > "$WORK/aria.txt" 2>&1 || fail "aria2c -S rejected $out: $(cat $WORK/aria.txt)"
    grep -qi "$ours" "$WORK/aria.txt" || fail "aria2c does not print hash $ours"
    $PY -c 'import sys,libtorrent as lt; ti=lt.torrent_info(sys.argv[1]); assert str(ti.info_hash())==sys.argv[2], ti.info_hash()' "$out" "$ours" \
      || fail "libtorrent could not read $out"
    pass "$target piece $piece: transmission-show, aria2c and libtorrent read rill's torrent"
  done
done
