#!/usr/bin/python3
"""Small helpers for clients.sh, standard library only.

  harness.py infohash TORRENT               hex v1 info-hash
  harness.py free-port USED_FILE            an unused TCP+UDP port, recorded in USED_FILE
  harness.py listening tcp|udp HOST PORT    exit 0 if a socket listens there (or on 0.0.0.0)
  harness.py sockets PID...                 the listening sockets of PIDs and their children
  harness.py announce URL HEX [EVENT]       one HTTP announce (port 1, compact); prints the reply
  harness.py scrape URL HEX                 prints "SEEDERS LEECHERS" the tracker knows
  harness.py probe URL HEX                  0: tracker serves HEX, 1: refuses it, 2: unreachable
  harness.py procstat PID                   "CPU_SECONDS PEAK_RSS_KB" of a live process
"""
import errno
import fcntl
import hashlib
import os
import random
import re
import socket
import sys
import urllib.parse
import urllib.request


def bdecode(data, i=0):
    """Decode one bencoded value at data[i:]; returns (value, next index)."""
    c = data[i:i + 1]
    if c == b"i":
        end = data.index(b"e", i)
        return int(data[i + 1:end]), end + 1
    if c == b"l":
        i += 1
        out = []
        while data[i:i + 1] != b"e":
            v, i = bdecode(data, i)
            out.append(v)
        return out, i + 1
    if c == b"d":
        i += 1
        out = {}
        while data[i:i + 1] != b"e":
            k, i = bdecode(data, i)
            v, i = bdecode(data, i)
            out[k] = v
        return out, i + 1
    if c.isdigit():
        colon = data.index(b":", i)
        n = int(data[i:colon])
        return data[colon + 1:colon + 1 + n], colon + 1 + n
    raise ValueError("bad bencode at %d" % i)


def info_span(data):
    """Byte range of the raw 'info' value in a torrent (hash the bytes as written)."""
    if data[:1] != b"d":
        raise ValueError("torrent is not a dictionary")
    i = 1
    while data[i:i + 1] != b"e":
        k, i = bdecode(data, i)
        start = i
        _, i = bdecode(data, i)
        if k == b"info":
            return start, i
    raise ValueError("no info dictionary")


def cmd_infohash(path):
    data = open(path, "rb").read()
    s, e = info_span(data)
    print(hashlib.sha1(data[s:e]).hexdigest())
    return 0


def local_port_range():
    try:
        lo, hi = open("/proc/sys/net/ipv4/ip_local_port_range").read().split()
        return int(lo), int(hi)
    except (OSError, ValueError):
        return 32768, 60999


def port_free(port):
    """True if both TCP and UDP can bind PORT on every address right now."""
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        s = socket.socket(socket.AF_INET, kind)
        try:
            s.bind(("0.0.0.0", port))
        except OSError:
            return False
        finally:
            s.close()
    return True


def cmd_free_port(used_file):
    """Random ports below the kernel's ephemeral range, so an outgoing
    connection cannot take one between this check and its use; the used file
    keeps one test from being handed the same port twice."""
    lo, hi = local_port_range()
    top = lo - 1 if lo > 12000 else 65535
    base = 10000 if lo > 12000 else hi + 1
    with open(used_file, "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        f.seek(0)
        used = {int(x) for x in f.read().split() if x.isdigit()}
        for _ in range(500):
            port = random.randint(base, top)
            if port not in used and port_free(port):
                f.write("%d\n" % port)
                print(port)
                return 0
    print("no free port found", file=sys.stderr)
    return 1


def proc_net(kind):
    """(family, ip, port, state, inode) rows of /proc/net/KIND and KIND6."""
    rows = []
    for fam, name in ((4, kind), (6, kind + "6")):
        try:
            lines = open("/proc/net/" + name).read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            f = line.split()
            addr, port = f[1].split(":")
            raw = bytes.fromhex(addr)
            # The kernel prints each 32-bit word in host (little-endian) order.
            raw = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
            ip = socket.inet_ntop(socket.AF_INET if fam == 4 else socket.AF_INET6, raw)
            rows.append((fam, ip, int(port, 16), f[3], f[9]))
    return rows


def listening_rows(kind):
    # TCP LISTEN is state 0A; an unconnected UDP socket is 07.
    want = "0A" if kind == "tcp" else "07"
    return [r for r in proc_net(kind) if r[3] == want]


def cmd_listening(kind, host, port):
    port = int(port)
    for _, ip, p, _, _ in listening_rows(kind):
        if p == port and ip in (host, "0.0.0.0", "::"):
            return 0
    return 1


def descendants(pid):
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for t in os.listdir("/proc/%d/task" % p):
                kids = open("/proc/%d/task/%s/children" % (p, t)).read().split()
                todo.extend(int(k) for k in kids)
        except OSError:
            pass
    return out


def socket_inodes(pid):
    inodes = set()
    try:
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    except OSError:
        pass
    return inodes


def cmd_sockets(pids):
    """One line per bound socket: 'tcp 127.0.0.2 6881 PID'. UDP sockets that
    are connected (a tracker or DNS query) are skipped: they do not listen."""
    for pid in pids:
        for p in descendants(int(pid)):
            inodes = socket_inodes(p)
            for kind in ("tcp", "udp"):
                for _, ip, port, _, inode in listening_rows(kind):
                    if inode in inodes:
                        print("%s %s %d %d" % (kind, ip, port, p))
    return 0


def announce(url, hexhash, event):
    # quote, not quote_plus: opentracker does not decode "+" as a space.
    q = urllib.parse.urlencode({
        "info_hash": bytes.fromhex(hexhash), "peer_id": b"-RH0001-harnessprobe",
        "port": 1, "uploaded": 0, "downloaded": 0, "left": 0, "compact": 1,
        "numwant": 0, "event": event}, quote_via=urllib.parse.quote)
    with urllib.request.urlopen(url + "?" + q, timeout=3) as r:
        return r.read()


def cmd_announce(url, hexhash, event="started"):
    try:
        sys.stdout.buffer.write(announce(url, hexhash, event))
    except OSError as e:
        print("announce failed: %s" % e, file=sys.stderr)
        return 1
    return 0


def cmd_probe(url, hexhash):
    """Exit 0 if the tracker serves HEX, 1 if it refuses it, 2 if unreachable.
    opentracker checks its whitelist on 'started' but not on 'stopped', so
    announce a fake peer (port 1) and take it back at once."""
    try:
        reply = announce(url, hexhash, "started")
        announce(url, hexhash, "stopped")
    except OSError as e:
        print("tracker unreachable: %s" % e, file=sys.stderr)
        return 2
    if b"failure reason" in reply:
        sys.stderr.buffer.write(reply + b"\n")
        return 1
    return 0


def cmd_scrape(url, hexhash):
    """Print the seeders and leechers the tracker knows for HEX (BEP 48
    scrape at the announce URL with 'announce' replaced by 'scrape'), as
    "SEEDERS LEECHERS"; "-1 -1" if the tracker cannot be reached."""
    q = urllib.parse.urlencode({"info_hash": bytes.fromhex(hexhash)},
                               quote_via=urllib.parse.quote)
    try:
        with urllib.request.urlopen(url.replace("/announce", "/scrape") + "?" + q,
                                    timeout=3) as r:
            body = r.read()
    except OSError:
        body = b""
    seeds = re.search(rb"8:completei(\d+)e", body)
    leechers = re.search(rb"10:incompletei(\d+)e", body)
    print(int(seeds.group(1)) if seeds else -1, int(leechers.group(1)) if leechers else -1)
    return 0


def cmd_procstat(pid):
    with open("/proc/%d/stat" % int(pid)) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
    hwm = 0
    with open("/proc/%d/status" % int(pid)) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
    print("%.3f %d" % (cpu, hwm))
    return 0


def main(argv):
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, rest = argv[0], argv[1:]
    table = {"infohash": cmd_infohash, "free-port": cmd_free_port,
             "listening": cmd_listening, "announce": cmd_announce,
             "probe": cmd_probe,
             "scrape": cmd_scrape,
             "procstat": cmd_procstat}
    try:
        if cmd == "sockets":
            return cmd_sockets(rest)
        if cmd in table:
            return table[cmd](*rest)
    except TypeError as e:
        print("%s: %s" % (cmd, e), file=sys.stderr)
        return 2
    except OSError as e:
        if e.errno == errno.ENOENT:
            print("%s: %s" % (cmd, e), file=sys.stderr)
            return 1
        raise
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
