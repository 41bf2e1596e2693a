#!/usr/bin/python3
"""Regenerates tests/data/torrents: known-good torrents made by real tools
(libtorrent, mktorrent, transmission-create) and hand-made hostile ones.
Run from anywhere with Debian's /usr/bin/python3; outputs are committed so the
tests do not need these tools. expected.txt lists each good torrent's
info-hash computed here independently (SHA-1 of the raw info bytes)."""
import hashlib, os, shutil, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "torrents")

def benc(v):
    if isinstance(v, int): return b"i%de" % v
    if isinstance(v, str): v = v.encode()
    if isinstance(v, bytes): return b"%d:%s" % (len(v), v)
    if isinstance(v, list): return b"l" + b"".join(benc(x) for x in v) + b"e"
    if isinstance(v, dict):
        items = sorted((k.encode() if isinstance(k, str) else k, x) for k, x in v.items())
        return b"d" + b"".join(benc(k) + benc(x) for k, x in items) + b"e"
    raise TypeError(v)

def info_span(data):
    """Byte span of the value of the top-level 'info' key (minimal decoder)."""
    def skip(i):
        c = data[i:i+1]
        if c == b"i": return data.index(b"e", i) + 1
        if c in (b"l", b"d"):
            i += 1
            while data[i:i+1] != b"e": i = skip(i)
            return i + 1
        colon = data.index(b":", i); return colon + 1 + int(data[i:colon])
    i = 1
    while data[i:i+1] != b"e":
        kend = skip(i); key = data[data.index(b":", i)+1:kend]
        vend = skip(kend)
        if key == b"info": return kend, vend
        i = vend
    raise ValueError("no info")

def content(n, seed):
    out = bytearray(); x = seed
    while len(out) < n:
        x = hashlib.sha256(x.to_bytes(8, "little") + b"rill").digest(); out += x
        x = int.from_bytes(x[:8], "little")
    return bytes(out[:n])

def pieces_of(data, plen):
    return b"".join(hashlib.sha1(data[i:i+plen]).digest() for i in range(0, len(data), plen))

def write(name, data):
    with open(os.path.join(OUT, name), "wb") as f: f.write(data)

def good_torrents(expected):
    import libtorrent as lt
    tmp = tempfile.mkdtemp()
    try:
        single = os.path.join(tmp, "single.bin")
        with open(single, "wb") as f: f.write(content(300000, 1))
        tree = os.path.join(tmp, "tree")
        os.makedirs(os.path.join(tree, "sub", "deeper"))
        for rel, n, s in [("a.txt", 1000, 2), ("sub/b.bin", 70000, 3),
                          ("sub/deeper/c.dat", 40000, 4), ("z.bin", 5, 5)]:
            with open(os.path.join(tree, rel), "wb") as f: f.write(content(n, s))
        subprocess.run(["mktorrent", "-l", "15", "-a", "http://127.0.0.1:6969/announce",
                        "-o", os.path.join(OUT, "mktorrent_single.torrent"), single],
                       check=True, capture_output=True)
        subprocess.run(["mktorrent", "-l", "15", "-a", "http://t1.example/a,http://t1b.example/a",
                        "-a", "udp://t2.example:80", "-w", "http://ws.example/files/",
                        "-p", "-o", os.path.join(OUT, "mktorrent_multi.torrent"), tree],
                       check=True, capture_output=True)
        subprocess.run(["transmission-create", "-s", "32", "-o",
                        os.path.join(OUT, "transmission_multi.torrent"), tree],
                       check=True, capture_output=True)
        for flags, name in [(lt.create_torrent.v1_only, "libtorrent_v1.torrent"),
                            (0, "libtorrent_hybrid.torrent"),
                            (lt.create_torrent.v2_only, "libtorrent_v2only.torrent")]:
            fs = lt.file_storage(); lt.add_files(fs, tree)
            ct = lt.create_torrent(fs, 32768, flags=flags)
            ct.add_tracker("http://127.0.0.1:6969/announce")
            lt.set_piece_hashes(ct, tmp)
            write(name, lt.bencode(ct.generate()))
        for name in sorted(os.listdir(OUT)):
            if name.endswith(".torrent") and name != "libtorrent_v2only.torrent":
                data = open(os.path.join(OUT, name), "rb").read()
                a, b = info_span(data)
                expected.append("%s %s" % (name, hashlib.sha1(data[a:b]).hexdigest()))
    finally:
        shutil.rmtree(tmp)

def single_info(**over):
    data = content(40000, 9)
    info = {"name": "file.bin", "piece length": 16384, "length": len(data),
            "pieces": pieces_of(data, 16384)}
    info.update(over)
    return info

def multi_info(paths, length=100):
    data = content(length * len(paths), 7)
    return {"name": "dir", "piece length": 16384,
            "files": [{"length": length, "path": p} for p in paths],
            "pieces": pieces_of(data, 16384)}

def hostile_torrents():
    t = lambda info, **outer: benc(dict({"announce": "http://t.example/a", "info": info}, **outer))
    cases = {
        "dotdot": t(multi_info([["..", "..", "etc", "passwd"]])),
        "dot": t(multi_info([[".", "x"]])),
        "empty_component": t(multi_info([["a", "", "b"]])),
        "empty_path": t(multi_info([[]])),
        "absolute": t(multi_info([["/etc/passwd"]])),
        "slash_inside": t(multi_info([["a/../../b"]])),
        "backslash": t(multi_info([["..\\..\\evil.exe"]])),
        "nul": t(multi_info([[b"a\x00b"]])),
        "name_dotdot": t(single_info(name="..")),
        "name_absolute": t(single_info(name="/tmp/evil")),
        "name_empty": t(single_info(name="")),
        "duplicate_path": t(multi_info([["a", "b"], ["a", "b"]])),
        "file_and_dir": t(multi_info([["a"], ["a", "b"]])),
        "pieces_count": t(single_info(pieces=b"x" * 20)),
        "pieces_not_20": t(single_info(pieces=b"x" * 59)),
        "negative_length": t(single_info(length=-1)),
        "huge_length": t(single_info(length=1 << 62)),
        "piece_length_zero": t(single_info(**{"piece length": 0})),
        "no_info": benc({"announce": "http://t.example/a"}),
        "info_not_dict": benc({"info": [1, 2]}),
        "both_length_files": t(dict(multi_info([["a"]]), length=5)),
        "no_files": t(dict(multi_info([]))),
        "not_a_dict": benc([1, 2, 3]),
        "unsorted_keys": b"d4:infod6:lengthi1e4:name1:a12:piece lengthi16384e6:pieces20:"
                         + b"x" * 20 + b"e8:announce1:xe",
        "trailing": t(single_info()) + b"garbage",
        "deep_nesting": b"d4:info" + b"l" * 10000 + b"e" * 10000 + b"e",
        "giant_string": b"d4:info1000000000:" + b"x" * 100 + b"e",
        "truncated": t(single_info())[:-10],
        "v2_only": t({"name": "x", "piece length": 16384, "meta version": 2,
                      "file tree": {"x": {"": {"length": 1, "pieces root": b"r" * 32}}}}),
        "leading_zero": b"d4:infod6:lengthi01eee",
    }
    renamed = {
        "control_chars": t(multi_info([["a\x01b", "c\x7fd.txt"]])),
        "long_name": t(multi_info([["n" * 300 + ".txt"]])),
        "bad_utf8": t(multi_info([[b"caf\xe9.txt"]])),
    }
    for name, data in cases.items(): write("hostile_%s.torrent" % name, data)
    for name, data in renamed.items(): write("renamed_%s.torrent" % name, data)

if __name__ == "__main__":
    shutil.rmtree(OUT, ignore_errors=True); os.makedirs(OUT)
    expected = []
    good_torrents(expected)
    hostile_torrents()
    with open(os.path.join(OUT, "expected.txt"), "w") as f: f.write("\n".join(expected) + "\n")
    print("\n".join(expected))
