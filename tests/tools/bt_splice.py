#!/usr/bin/env python3
"""Join two BitTorrent peers that only accept connections (Python standard library only).

Transmission 3.00 never dials peers at 127.x addresses (it treats loopback as
a "martian" address), so two Transmissions on loopback never meet. This tool
dials both, sends each a plain BEP 3 handshake for the torrent (reserved bits
all zero, so neither side uses extensions the other was not offered), reads
their handshakes, prints "SPLICED", then copies bytes both ways until one
side closes or --timeout passes. Each side sees an ordinary incoming peer.

  bt_splice.py --torrent T --a 127.0.0.4:51413 --b 127.0.0.5:51414

The copy runs in the kernel (os.splice through a pipe) where available, so
it costs little CPU next to the clients it joins; the last line of output is
a JSON summary (bytes each way, seconds).
"""
import argparse
import hashlib
import json
import os
import random
import socket
import sys
import threading
import time

PROTOCOL = b"\x13BitTorrent protocol"


def bdecode(data, i=0):
    c = data[i:i + 1]
    if c == b"i":
        end = data.index(b"e", i)
        return int(data[i + 1:end]), end + 1
    if c in (b"l", b"d"):
        i += 1
        items = []
        while data[i:i + 1] != b"e":
            v, i = bdecode(data, i)
            items.append(v)
        return items, i + 1
    colon = data.index(b":", i)
    n = int(data[i:colon])
    return data[colon + 1:colon + 1 + n], colon + 1 + n


def info_hash(path):
    raw = open(path, "rb").read()
    i = 1
    while raw[i:i + 1] != b"e":
        key, i = bdecode(raw, i)
        start = i
        _, i = bdecode(raw, i)
        if key == b"info":
            return hashlib.sha1(raw[start:i]).digest()
    raise ValueError("no info dictionary in %s" % path)


def endpoint(text):
    host, _, port = text.rpartition(":")
    return host.strip("[]"), int(port)


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("closed during the handshake")
        buf += chunk
    return buf


def dial(addr, ih, reserved, attempts, deadline):
    """Connect and exchange handshakes; retries while the peer is not up yet."""
    peer_id = b"-SP0001-" + bytes(random.choice(b"0123456789abcdef") for _ in range(12))
    last = None
    for _ in range(attempts):
        try:
            s = socket.create_connection(addr, timeout=max(1.0, deadline - time.monotonic()))
            s.sendall(PROTOCOL + reserved + ih + peer_id)
            hs = recv_exact(s, 68)
            if hs[:20] != PROTOCOL or hs[28:48] != ih:
                raise ConnectionError("unexpected handshake %r" % hs[:48])
            s.settimeout(None)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return s, hs[20:28], hs[48:68]
        except OSError as e:
            last = e
            time.sleep(1)
    raise ConnectionError("%s:%d: %s" % (addr[0], addr[1], last))


def pump(src, dst, counter, key, done):
    """Copy src to dst until EOF; through a pipe with splice(2) when possible."""
    try:
        if hasattr(os, "splice"):
            r, w = os.pipe()
            try:
                while True:
                    n = os.splice(src.fileno(), w, 1 << 20)
                    if n == 0:
                        break
                    left = n
                    while left:
                        left -= os.splice(r, dst.fileno(), left)
                    counter[key] += n
            finally:
                os.close(r)
                os.close(w)
        else:
            buf = bytearray(1 << 18)
            while True:
                n = src.recv_into(buf)
                if n == 0:
                    break
                dst.sendall(memoryview(buf)[:n])
                counter[key] += n
    except OSError:
        pass
    finally:
        done.set()


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--torrent", required=True)
    p.add_argument("--a", required=True, type=endpoint, help="HOST:PORT of the first peer")
    p.add_argument("--b", required=True, type=endpoint, help="HOST:PORT of the second peer")
    p.add_argument("--timeout", type=float, default=300.0, help="lifetime in seconds")
    p.add_argument("--attempts", type=int, default=10, help="dial attempts per peer")
    p.add_argument("--reserved", type=bytes.fromhex, default=bytes(8),
                   help="reserved bytes to offer both sides, as 16 hex digits (default all "
                        "zero; 0000000000100004 offers the extension protocol and the fast "
                        "extension, right only if both peers support them)")
    args = p.parse_args(argv)
    start = time.monotonic()
    deadline = start + args.timeout
    ih = info_hash(args.torrent)
    a, res_a, id_a = dial(args.a, ih, args.reserved, args.attempts, deadline)
    b, res_b, id_b = dial(args.b, ih, args.reserved, args.attempts, deadline)
    for name, res in (("a", res_a), ("b", res_b)):
        missing = int.from_bytes(args.reserved, "big") & ~int.from_bytes(res, "big")
        if missing:
            raise ConnectionError("peer %s does not support reserved bits %016x it was offered"
                                  % (name, missing))
    print("SPLICED %s:%d (%r) <-> %s:%d (%r)" % (args.a + (id_a,) + args.b + (id_b,)), flush=True)
    counter = {"a_to_b": 0, "b_to_a": 0}
    done = threading.Event()
    for src, dst, key in ((a, b, "a_to_b"), (b, a, "b_to_a")):
        threading.Thread(target=pump, args=(src, dst, counter, key, done), daemon=True).start()
    done.wait(max(0.0, deadline - time.monotonic()))
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    time.sleep(0.1)
    print(json.dumps({"tool": "bt_splice", "seconds": round(time.monotonic() - start, 3),
                      **counter}), flush=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except (ConnectionError, ValueError, OSError) as e:
        print("bt_splice: %s" % e, file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(0)
