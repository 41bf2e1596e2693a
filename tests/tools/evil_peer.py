#!/usr/bin/env python3
"""A hostile BitTorrent seed for fault tests (Python standard library only).

It speaks the real peer wire protocol (BEP 3): handshake with the torrent's
info-hash, a bitfield claiming every piece, unchoke, and answers to requests
with blocks read from --data, then misbehaves as --mode says:

  honest       a correct seed (the control case)
  corrupt      every block it sends has wrong bytes (right length)
  garbage      random bytes right after the handshake
  oversized    a message whose length prefix is --oversize-len (0x7fffffff,
               or 1048576 for a whole 1 MiB message), after bitfield+unchoke
  vanish       serves --honest-blocks blocks (3), then sends half of the
               next block and closes the connection (--vanish-how close);
               or resets it (rst), or keeps it open and goes silent (silent)
  badbitfield  a bitfield one byte longer than the torrent needs
  sparebits    a bitfield of the right length with the spare bits set
               (torrents whose piece count is a multiple of 8 have none:
               then it behaves like badbitfield)
  badmeta      offers the metadata (BEP 9, ut_metadata) and serves every
               piece of the info dictionary with wrong bytes; blocks are
               honest (a magnet leecher must ban it and fetch elsewhere)
  badsize      as badmeta, but it also claims a metadata_size 1000 bytes
               too large (a leecher that believed it must start over with
               the size the honest peers give)

It listens on --bind:--listen (and/or dials --connect HOST:PORT, for peers
such as Transmission that never dial loopback addresses), optionally
announces itself to an HTTP tracker (--announce URL), and exits after
--timeout seconds, on SIGTERM/SIGINT, or once --exit-after connections have
ended. Each event is logged on stdout; the last line is a JSON summary:
connections, handshakes, requests, blocks sent, corrupt blocks, and for each
connection who closed it and when ("peer" means the other side disconnected
us: the reaction a fault test wants).

  evil_peer.py --torrent T --data DIR_OR_FILE --listen 7001 --mode corrupt
"""
import argparse
import asyncio
import hashlib
import json
import os
import random
import signal
import socket
import struct
import sys
import time
import urllib.parse
import urllib.request

PROTOCOL = b"\x13BitTorrent protocol"
MAX_IN_MSG = 1 << 20  # what we accept from the other side (a piece is 16 KiB + 9)
MAX_EVENTS = 200
XOR_A5 = bytes(b ^ 0xA5 for b in range(256))
MODES = ("honest", "corrupt", "garbage", "oversized", "vanish", "badbitfield", "sparebits",
         "badmeta", "badsize")
UT_METADATA_ID = 3  # our id for ut_metadata in the extended handshake


# ---------------------------------------------------------------- metainfo

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
        if c == b"l":
            return items, i + 1
        return dict(zip(items[0::2], items[1::2])), i + 1
    colon = data.index(b":", i)
    n = int(data[i:colon])
    return data[colon + 1:colon + 1 + n], colon + 1 + n


def bencode(v):
    if isinstance(v, int):
        return b"i%de" % v
    if isinstance(v, bytes):
        return b"%d:%s" % (len(v), v)
    if isinstance(v, dict):
        return b"d" + b"".join(bencode(k) + bencode(v[k]) for k in sorted(v)) + b"e"
    return b"l" + b"".join(bencode(x) for x in v) + b"e"


def raw_info(raw):
    """The info dictionary's bytes exactly as written (what the info-hash covers)."""
    i = 1
    while raw[i:i + 1] != b"e":
        key, i = bdecode(raw, i)
        start = i
        _, i = bdecode(raw, i)
        if key == b"info":
            return raw[start:i]
    raise ValueError("no info dictionary")


class Torrent:
    """What a seed needs: info-hash, piece geometry, and where the bytes are."""

    def __init__(self, path, data_path):
        raw = open(path, "rb").read()
        meta, _ = bdecode(raw)
        info = meta[b"info"]
        self.info = raw_info(raw)
        self.info_hash = hashlib.sha1(self.info).digest()
        self.announce = meta.get(b"announce", b"").decode(errors="replace")
        self.piece_length = info[b"piece length"]
        self.hashes = info[b"pieces"]
        self.num_pieces = len(self.hashes) // 20
        name = info[b"name"].decode()
        if b"files" in info:
            root = data_path if os.path.basename(os.path.normpath(data_path)) == name \
                else os.path.join(data_path, name)
            self.files = [(os.path.join(root, *[p.decode() for p in f[b"path"]]), f[b"length"])
                          for f in info[b"files"]]
        else:
            path = data_path if os.path.isfile(data_path) else os.path.join(data_path, name)
            self.files = [(path, info[b"length"])]
        self.total = sum(length for _, length in self.files)

    def piece_size(self, index):
        if index == self.num_pieces - 1:
            return self.total - index * self.piece_length
        return self.piece_length

    def read(self, index, begin, length):
        """The honest bytes of a block; files that are missing read as zeros."""
        offset = index * self.piece_length + begin
        out = bytearray()
        pos = 0
        for path, size in self.files:
            if length == 0:
                break
            if offset < pos + size:
                start = offset - pos
                n = min(length, size - start)
                try:
                    with open(path, "rb") as f:
                        f.seek(start)
                        chunk = f.read(n)
                except OSError:
                    chunk = b""
                out += chunk + bytes(n - len(chunk))
                offset += n
                length -= n
            pos += size
        return bytes(out)


# ------------------------------------------------------------------ the peer

class Stats:
    def __init__(self, mode):
        self.mode = mode
        self.connections = 0
        self.handshakes = 0
        self.requests = 0
        self.blocks_sent = 0
        self.corrupt_blocks = 0
        self.bad_meta_pieces = 0
        self.bytes_sent = 0
        self.conns = []       # per connection: who closed it, after how long, why
        self.events = []
        self.ended = 0

    def log(self, msg):
        line = "%.3f %s" % (time.monotonic() - START, msg)
        print(line, flush=True)
        if len(self.events) < MAX_EVENTS:
            self.events.append(line)


START = time.monotonic()


def msg(mid, payload=b""):
    return struct.pack(">IB", len(payload) + 1, mid) + payload


def bitfield_bytes(t, mode):
    n = (t.num_pieces + 7) // 8
    bits = bytearray(b"\xff" * n)
    spare = n * 8 - t.num_pieces
    if mode == "sparebits" and spare:
        return bytes(bits)  # every spare bit set
    if spare:
        bits[-1] = (0xFF << spare) & 0xFF
    if mode in ("badbitfield", "sparebits"):
        bits += b"\xff"  # one byte too many
    return bytes(bits)


class Conn:
    def __init__(self, args, t, stats, reader, writer, outgoing):
        self.args, self.t, self.stats = args, t, stats
        self.reader, self.writer = reader, writer
        self.outgoing = outgoing
        peer = writer.get_extra_info("peername") or ("?", 0)
        self.name = "%s:%d" % (peer[0], peer[1])
        self.opened = time.monotonic()
        self.served = 0
        self.record = {"peer": self.name, "outgoing": outgoing, "closed_by": None,
                       "after": None, "reason": None, "requests": 0, "blocks": 0}

    def log(self, text):
        self.stats.log("[%s] %s" % (self.name, text))

    async def send(self, data):
        self.writer.write(data)
        await self.writer.drain()
        self.stats.bytes_sent += len(data)

    async def read_exact(self, n, what):
        try:
            return await asyncio.wait_for(self.reader.readexactly(n), self.args.idle)
        except asyncio.IncompleteReadError as e:
            raise PeerClosed("peer closed the connection while we waited for %s" % what) from e
        except asyncio.TimeoutError as e:
            raise Idle("no %s for %.0fs" % (what, self.args.idle)) from e

    async def handshake(self):
        meta = self.args.mode in ("badmeta", "badsize")
        reserved = bytes(5) + b"\x10" + bytes(2) if meta else bytes(8)
        ours = PROTOCOL + reserved + self.t.info_hash + self.args.peer_id
        if self.outgoing:
            await self.send(ours)
        hs = await self.read_exact(68, "handshake")
        if hs[:20] != PROTOCOL:
            raise Refused("not a BitTorrent handshake")
        if hs[28:48] != self.t.info_hash:
            raise Refused("handshake for another info-hash %s" % hs[28:48].hex())
        if not self.outgoing:
            await self.send(ours)
        self.stats.handshakes += 1
        self.log("handshake ok, their peer id %r reserved %s" % (hs[48:68], hs[20:28].hex()))

    async def run(self):
        await self.handshake()
        mode = self.args.mode
        if mode == "garbage":
            junk = os.urandom(self.args.garbage_bytes)
            self.log("sending %d random bytes" % len(junk))
            await self.send(junk)
            await self.drain_until_closed()
            return
        if mode in ("badmeta", "badsize"):
            hs = {b"m": {b"ut_metadata": UT_METADATA_ID}, b"metadata_size": len(self.meta_bytes())}
            await self.send(msg(20, b"\x00" + bencode(hs)))
        await self.send(msg(5, bitfield_bytes(self.t, mode)) + msg(1))
        self.log("sent bitfield (%s) and unchoke" % ("bad: " + mode if "bit" in mode else "all pieces"))
        if mode == "oversized":
            await self.send_oversized()
            await self.drain_until_closed()
            return
        await self.serve()

    async def send_oversized(self):
        n = self.args.oversize_len
        if n <= 1 << 24:
            # Small enough to send whole: a 'piece' message of n bytes.
            body = struct.pack(">BII", 7, 0, 0) + os.urandom(max(0, n - 9))
            self.log("sending a whole %d-byte piece message" % n)
            await self.send(struct.pack(">I", n) + body[:n])
        else:
            self.log("sending a piece message header with length %#x and 64 KiB of it" % n)
            await self.send(struct.pack(">IBII", n, 7, 0, 0) + os.urandom(65536))

    async def drain_until_closed(self):
        """Read and discard until the other side closes (what we hope for)."""
        while True:
            try:
                data = await asyncio.wait_for(self.reader.read(65536), self.args.idle)
            except asyncio.TimeoutError as e:
                raise Idle("still connected %.0fs after the hostile message" % self.args.idle) from e
            if not data:
                raise PeerClosed("peer closed the connection")

    async def serve(self):
        while True:
            head = await self.read_exact(4, "message")
            (length,) = struct.unpack(">I", head)
            if length == 0:
                continue  # keep-alive
            if length > MAX_IN_MSG:
                raise Refused("peer sent a %d-byte message" % length)
            body = await self.read_exact(length, "message body")
            mid = body[0]
            if mid == 6:
                await self.on_request(body)
            elif mid == 20 and self.args.mode in ("badmeta", "badsize"):
                await self.on_extended(body)
            elif mid in (0, 1, 2, 3, 4, 5, 7, 8, 9, 13, 14, 15, 16, 17, 20):
                pass  # nothing to do for a seed that ignores extensions
            else:
                self.log("ignoring message id %d (%d bytes)" % (mid, length))

    def meta_bytes(self):
        return self.t.info + (bytes(1000) if self.args.mode == "badsize" else b"")

    async def on_extended(self, body):
        """Their handshake (their ut_metadata id), then metadata requests,
        answered with the right lengths and the wrong bytes."""
        if body[1] == 0:
            hs, _ = bdecode(body, 2)
            self.their_meta = hs.get(b"m", {}).get(b"ut_metadata", 0)
            return
        if body[1] != UT_METADATA_ID or not getattr(self, "their_meta", 0):
            return
        req, _ = bdecode(body, 2)
        piece = req.get(b"piece", 0)
        info = self.meta_bytes()
        chunk = info[piece * 16384:(piece + 1) * 16384]
        if req.get(b"msg_type") != 0 or not chunk:
            return
        head = bencode({b"msg_type": 1, b"piece": piece, b"total_size": len(info)})
        await self.send(msg(20, bytes([self.their_meta]) + head + chunk.translate(XOR_A5)))
        self.stats.bad_meta_pieces += 1
        self.log("sent metadata piece %d with wrong bytes" % piece)

    async def on_request(self, body):
        if len(body) != 13:
            raise Refused("request of %d bytes" % len(body))
        index, begin, length = struct.unpack(">III", body[1:])
        self.stats.requests += 1
        self.record["requests"] += 1
        if index >= self.t.num_pieces or begin + length > self.t.piece_size(index) or length > 1 << 17:
            raise Refused("request out of range: piece %d begin %d length %d" % (index, begin, length))
        data = self.t.read(index, begin, length)
        mode = self.args.mode
        if mode == "vanish" and self.served >= self.args.honest_blocks:
            half = struct.pack(">IBII", 9 + length, 7, index, begin) + data[:length // 2]
            self.log("vanishing mid-block: piece %d begin %d, %d of %d bytes sent" % (
                index, begin, length // 2, length))
            await self.send(half)
            if self.args.vanish_how == "silent":
                self.log("going silent with the connection open")
                await self.drain_until_closed()
            raise Vanished("%s mid-block after %d honest blocks" % (
                "reset" if self.args.vanish_how == "rst" else "closed", self.served))
        corrupt = mode == "corrupt" and self.served >= self.args.honest_blocks
        if corrupt:
            data = data.translate(XOR_A5)
        await self.send(struct.pack(">IBII", 9 + length, 7, index, begin) + data)
        self.stats.corrupt_blocks += corrupt
        self.served += 1
        self.stats.blocks_sent += 1
        self.record["blocks"] += 1
        if self.served <= 3 or self.served % 64 == 0:
            self.log("sent %s block %d: piece %d begin %d length %d" % (
                "corrupt" if corrupt else "honest", self.served, index, begin, length))


class PeerClosed(Exception):
    pass


class Idle(Exception):
    pass


class Refused(Exception):
    pass


class Vanished(Exception):
    pass


async def handle(args, t, stats, reader, writer, outgoing=False):
    stats.connections += 1
    c = Conn(args, t, stats, reader, writer, outgoing)
    c.log("connected (%s)" % ("we dialed" if outgoing else "incoming"))
    stats.conns.append(c.record)
    try:
        await c.run()
        c.record["closed_by"], c.record["reason"] = "us", "done"
    except PeerClosed as e:
        c.record["closed_by"], c.record["reason"] = "peer", str(e)
    except (ConnectionResetError, BrokenPipeError) as e:
        c.record["closed_by"], c.record["reason"] = "peer", "reset: %s" % e
    except Idle as e:
        c.record["closed_by"], c.record["reason"] = "us", "idle: %s" % e
    except Refused as e:
        c.record["closed_by"], c.record["reason"] = "us", "refused: %s" % e
    except Vanished as e:
        c.record["closed_by"], c.record["reason"] = "us", "vanished: %s" % e
    except asyncio.CancelledError:
        c.record["closed_by"], c.record["reason"] = "us", "shutting down"
        raise
    finally:
        c.record["after"] = round(time.monotonic() - c.opened, 3)
        c.log("connection ended after %.3fs: closed by %s (%s); %d requests, %d blocks" % (
            c.record["after"], c.record["closed_by"], c.record["reason"],
            c.record["requests"], c.record["blocks"]))
        if args.mode == "vanish" and args.vanish_how == "rst":
            # An abortive close: the other side reads ECONNRESET.
            sock = writer.get_extra_info("socket")
            if sock is not None:
                try:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                except OSError:
                    pass
        writer.close()
        stats.ended += 1
        if args.exit_after and stats.ended >= args.exit_after:
            args.stop.set()


def announce(args, t, port, event):
    url = args.announce if args.announce != "auto" else t.announce
    q = urllib.parse.urlencode({
        "info_hash": t.info_hash, "peer_id": args.peer_id, "port": port, "uploaded": 0,
        "downloaded": 0, "left": 0, "compact": 1, "event": event},
        quote_via=urllib.parse.quote)  # opentracker does not decode '+'
    try:
        with urllib.request.urlopen(url + ("&" if "?" in url else "?") + q, timeout=3) as r:
            return r.read()[:200]
    except OSError as e:
        return ("announce failed: %s" % e).encode()


async def announcer(args, t, stats, port):
    event = "started"
    while True:
        reply = await asyncio.get_running_loop().run_in_executor(None, announce, args, t, port, event)
        if event == "started":
            stats.log("announced to %s: %r" % (args.announce, reply))
        event = "empty"
        await asyncio.sleep(args.announce_every)


async def dialer(args, t, stats):
    host, _, port = args.connect.rpartition(":")
    for attempt in range(args.dial_attempts):
        try:
            reader, writer = await asyncio.open_connection(host.strip("[]"), int(port))
        except OSError as e:
            stats.log("dial %s failed (%s), attempt %d" % (args.connect, e, attempt + 1))
            await asyncio.sleep(1)
            continue
        await handle(args, t, stats, reader, writer, outgoing=True)
        if not args.redial:
            return
        await asyncio.sleep(1)


async def main_async(args, t, stats):
    args.stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, args.stop.set)
    tasks = []
    server = None
    port = args.listen
    if args.listen is not None:
        server = await asyncio.start_server(
            lambda r, w: handle(args, t, stats, r, w), args.bind, args.listen)
        port = server.sockets[0].getsockname()[1]
        stats.log("listening on %s:%d, mode %s, %d pieces of %d bytes" % (
            args.bind, port, args.mode, t.num_pieces, t.piece_length))
    if args.connect:
        tasks.append(asyncio.create_task(dialer(args, t, stats)))
    if args.announce:
        tasks.append(asyncio.create_task(announcer(args, t, stats, port or 1)))
    try:
        await asyncio.wait_for(args.stop.wait(), args.timeout)
    except asyncio.TimeoutError:
        stats.log("timeout (%.0fs) reached" % args.timeout)
    if server:
        server.close()
    for task in tasks:
        task.cancel()
    # Give connection handlers a moment to record how they ended.
    pending = [x for x in asyncio.all_tasks() if x is not asyncio.current_task()]
    for x in pending:
        x.cancel()
    await asyncio.gather(*pending, return_exceptions=True)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split("\n", 2)[2])
    p.add_argument("--torrent", required=True)
    p.add_argument("--data", required=True,
                   help="the content: the file itself, or the directory holding it")
    p.add_argument("--mode", choices=MODES, required=True)
    p.add_argument("--listen", type=int, help="TCP port to listen on (0: any)")
    p.add_argument("--bind", default="127.0.0.1")
    p.add_argument("--connect", help="HOST:PORT to dial")
    p.add_argument("--redial", action="store_true", help="dial again after each connection ends")
    p.add_argument("--dial-attempts", type=int, default=10)
    p.add_argument("--announce", help="HTTP tracker URL to announce to ('auto': the torrent's)")
    p.add_argument("--announce-every", type=float, default=5.0)
    p.add_argument("--timeout", type=float, default=60.0, help="lifetime in seconds")
    p.add_argument("--idle", type=float, default=30.0,
                   help="give up on a connection silent this long")
    p.add_argument("--exit-after", type=int, default=0,
                   help="exit once this many connections have ended (0: never)")
    p.add_argument("--honest-blocks", type=int, default=None,
                   help="blocks served honestly before misbehaving (vanish: 3, corrupt: 0)")
    p.add_argument("--oversize-len", type=lambda s: int(s, 0), default=0x7FFFFFFF,
                   help="length prefix for --mode oversized (default 0x7fffffff; 1048576 "
                        "sends a whole 1 MiB message)")
    p.add_argument("--vanish-how", choices=("close", "rst", "silent"), default="close")
    p.add_argument("--garbage-bytes", type=int, default=65536)
    p.add_argument("--seed", type=int, default=None, help="random seed (peer id, garbage)")
    args = p.parse_args(argv)
    if args.listen is None and not args.connect:
        p.error("give --listen PORT and/or --connect HOST:PORT")
    if args.honest_blocks is None:
        args.honest_blocks = 3 if args.mode == "vanish" else 0
    return args


def main(argv):
    args = parse_args(argv)
    if args.seed is not None:
        random.seed(args.seed)
    args.peer_id = b"-EV0001-" + bytes(random.choice(b"0123456789abcdef") for _ in range(12))
    t = Torrent(args.torrent, args.data)
    missing = [path for path, _ in t.files if not os.path.exists(path)]
    if missing and args.mode in ("honest", "corrupt", "vanish"):
        print("evil_peer: data not found: %s" % ", ".join(missing), file=sys.stderr)
        return 2
    stats = Stats(args.mode)
    try:
        asyncio.run(main_async(args, t, stats))
    except OSError as e:
        print("evil_peer: %s" % e, file=sys.stderr)
        return 2
    summary = {
        "tool": "evil_peer", "mode": args.mode, "info_hash": t.info_hash.hex(),
        "connections": stats.connections, "handshakes": stats.handshakes,
        "requests": stats.requests, "blocks_sent": stats.blocks_sent,
        "corrupt_blocks": stats.corrupt_blocks, "bytes_sent": stats.bytes_sent,
        "bad_meta_pieces": stats.bad_meta_pieces,
        "closed_by_peer": sum(1 for c in stats.conns if c["closed_by"] == "peer"),
        "conns": stats.conns[:MAX_EVENTS],
    }
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
