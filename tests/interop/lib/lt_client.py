#!/usr/bin/python3
"""A libtorrent peer for rill's interop tests, fault tests and benchmarks.

Run it with Debian's interpreter (/usr/bin/python3): python3-libtorrent is
installed for that one only.

  lt_client.py --torrent T --save DIR --seed  [--port N] [--bind 127.0.0.2]
  lt_client.py --torrent T --save DIR --leech --exit-when-done [--peer H:P]...
  lt_client.py --magnet URI --save DIR --leech --exit-when-done \
               --dht-bootstrap H:P [--save-torrent FILE]

Everything that reaches out is off (DHT, LSD, UPnP, NAT-PMP, uTP, PEX); it
listens on --bind:--port only. With --dht-bootstrap (repeatable) its DHT runs
on that same UDP port, joined through those nodes only, with the checks that
keep loopback nodes out turned off (see /work/shared/INTEROP.md), and the
torrent is announced to the DHT every --dht-announce seconds. A --magnet is
added without peers: the metadata (ut_metadata) comes from peers the DHT or
--peer names; "METADATA" is printed when it arrives.

It prints "READY port=N" once the torrent is
checked (seeding, or downloading for a leecher), a progress line every
--interval seconds, and on exit one final JSON line (starting with '{') that
summarises the run: bytes, hash failures, bans, disconnect reasons, tracker
replies. Exit status: 0 done (or a seeder stopped by signal or --timeout),
1 --timeout before a leecher finished, 2 a torrent or storage error.
"""
import argparse
import json
import os
import signal
import sys
import time
import warnings

import libtorrent as lt

# session.status() is deprecated in 2.0 but still the simple way to read the
# DHT's node count.
warnings.filterwarnings("ignore", message=r"status\(\) is deprecated")

MAX_RECORDS = 50  # cap on the per-event lists kept for the final JSON


def parse_rate(text):
    """'10M', '512K', '1000' (bytes per second) -> int; 0 means unlimited."""
    text = text.strip().upper()
    mult = 1
    if text and text[-1] in "KMG":
        mult = 1024 ** ("KMG".index(text[-1]) + 1)
        text = text[:-1]
    value = float(text) * mult
    if value < 0:
        raise argparse.ArgumentTypeError("rate must be >= 0")
    return int(value)


def parse_peer(text):
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise argparse.ArgumentTypeError("peer must be HOST:PORT")
    return host.strip("[]"), int(port)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--torrent", help=".torrent file")
    src.add_argument("--magnet", help="magnet link (leech only): metadata from peers")
    p.add_argument("--save", required=True, help="directory holding (or receiving) the content")
    role = p.add_mutually_exclusive_group(required=True)
    role.add_argument("--seed", action="store_true", help="serve existing data")
    role.add_argument("--leech", action="store_true", help="download")
    p.add_argument("--port", type=int, default=0, help="listen port (0: any)")
    p.add_argument("--bind", default="127.0.0.1", help="loopback address to use")
    p.add_argument("--peer", type=parse_peer, action="append", default=[],
                   help="HOST:PORT to connect to directly (repeatable)")
    p.add_argument("--max-up", type=parse_rate, default=0, help="upload limit, e.g. 10M")
    p.add_argument("--max-down", type=parse_rate, default=0, help="download limit, e.g. 512K")
    p.add_argument("--exit-when-done", action="store_true",
                   help="leecher: exit 0 as soon as every piece is verified")
    p.add_argument("--timeout", type=float, default=300.0,
                   help="hard lifetime in seconds (leecher not done by then: exit 1)")
    p.add_argument("--interval", type=float, default=1.0, help="seconds between progress lines")
    p.add_argument("--seed-mode", action="store_true",
                   help="seeder: trust the data, skip the initial check (libtorrent then "
                        "hashes each piece the first time it is requested)")
    p.add_argument("--no-trackers", action="store_true",
                   help="ignore the torrent's trackers (use --peer only)")
    p.add_argument("--reannounce", type=float, default=0.0,
                   help="force a tracker re-announce every SEC seconds (0: tracker's interval)")
    p.add_argument("--high-performance", action="store_true",
                   help="start from libtorrent's high_performance_seed() settings")
    p.add_argument("--encryption", choices=["plain", "enabled", "forced"], default="plain",
                   help="outgoing connections: plain (default), try MSE first, or MSE only; "
                        "incoming accepts both unless forced")
    p.add_argument("--connections", type=int, default=0, help="connections limit (0: default)")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.add_argument("--dht-bootstrap", type=parse_peer, action="append", default=[],
                   help="turn the DHT on (loopback nodes allowed), joining through "
                        "this HOST:PORT only (repeatable)")
    p.add_argument("--dht-announce", type=float, default=3.0,
                   help="with the DHT: announce (and look up peers) every SEC seconds")
    p.add_argument("--save-torrent", help="write the torrent's metadata here once known")
    args = p.parse_args(argv)
    if args.seed and args.exit_when_done:
        p.error("--exit-when-done is for --leech")
    if args.magnet and not args.leech:
        p.error("--magnet is for --leech")
    return args


def make_session(args):
    pe = {"plain": lt.enc_policy.disabled, "enabled": lt.enc_policy.enabled,
          "forced": lt.enc_policy.forced}[args.encryption]
    s = dict(lt.high_performance_seed()) if args.high_performance else {}
    s.update({
        "listen_interfaces": "%s:%d" % (args.bind, args.port),
        "outgoing_interfaces": args.bind,
        "enable_dht": False, "enable_lsd": False,
        "enable_upnp": False, "enable_natpmp": False,
        "enable_outgoing_utp": False, "enable_incoming_utp": False,
        # Every peer of a loopback test shares an address range, often one address.
        "allow_multiple_connections_per_ip": True,
        "out_enc_policy": pe,
        "in_enc_policy": lt.enc_policy.forced if args.encryption == "forced" else lt.enc_policy.enabled,
        "announce_to_all_trackers": True, "announce_to_all_tiers": True,
        "user_agent": "rill-interop-libtorrent/" + lt.__version__,
        "alert_mask": (lt.alert.category_t.error_notification
                       | lt.alert.category_t.peer_notification
                       | lt.alert.category_t.status_notification
                       | lt.alert.category_t.storage_notification
                       | lt.alert.category_t.tracker_notification
                       | lt.alert.category_t.connect_notification),
        "upload_rate_limit": args.max_up,
        "download_rate_limit": args.max_down,
    })
    if args.connections:
        s["connections_limit"] = args.connections
    if args.dht_bootstrap:
        s.update({
            "enable_dht": True,
            # No well-known routers: the nodes given are the only way in.
            "dht_bootstrap_nodes": "",
            # Everything checks that a loopback test trips over: several
            # nodes per IP and per /24, node ids not derived from the
            # (loopback) address, "dark internet" addresses, unverified ids.
            "dht_restrict_routing_ips": False, "dht_restrict_search_ips": False,
            "dht_enforce_node_id": False, "dht_ignore_dark_internet": False,
            "dht_prefer_verified_node_ids": False,
            "dht_announce_interval": max(1, int(args.dht_announce)),
        })
        s["alert_mask"] |= lt.alert.category_t.dht_notification
    # flags 0: no default plugins, since they include ut_pex; add back the
    # metadata extension and smart_ban (the ban logic the fault tests watch).
    ses = lt.session(s, 0)
    ses.add_extension("ut_metadata")
    ses.add_extension("smart_ban")
    for node in args.dht_bootstrap:
        ses.add_dht_node(node)
    if args.max_up or args.max_down:
        # libtorrent puts 127.0.0.0/8 in the local peer class, which is exempt
        # from the global limits. Map every IPv4 address to the global class.
        f = lt.ip_filter()
        f.add_rule("0.0.0.0", "255.255.255.255", 1 << lt.session.global_peer_class_id)
        ses.set_peer_class_filter(f)
    return ses


class Report:
    """What happened, for the final JSON line."""

    def __init__(self):
        self.hash_failed = 0
        self.hash_failed_pieces = []
        self.bans = []
        self.disconnects = []
        self.peer_errors = []
        self.connects = 0
        self.tracker_replies = 0
        self.tracker_errors = []
        self.errors = []
        self.finished_at = None
        self.first_byte_at = None
        self.ready_at = None
        self.metadata_at = None

    @staticmethod
    def _push(lst, item):
        if len(lst) < MAX_RECORDS:
            lst.append(item)

    def on_alert(self, a, now):
        if isinstance(a, lt.hash_failed_alert):
            self.hash_failed += 1
            self._push(self.hash_failed_pieces, a.piece_index)
        elif isinstance(a, lt.peer_ban_alert):
            self._push(self.bans, "%s:%d" % tuple(a.endpoint))
        elif isinstance(a, lt.peer_disconnected_alert):
            self._push(self.disconnects, {"peer": "%s:%d" % tuple(a.endpoint),
                                          "reason": a.error.message(), "op": str(a.op)})
        elif isinstance(a, lt.peer_error_alert):
            self._push(self.peer_errors, {"peer": "%s:%d" % tuple(a.endpoint),
                                          "error": a.error.message()})
        elif isinstance(a, lt.peer_connect_alert):
            self.connects += 1
        elif isinstance(a, lt.tracker_reply_alert):
            self.tracker_replies += 1
        elif isinstance(a, lt.tracker_error_alert):
            self._push(self.tracker_errors, a.message())
        elif isinstance(a, (lt.torrent_error_alert, lt.file_error_alert, lt.listen_failed_alert)):
            self._push(self.errors, a.message())
        elif isinstance(a, lt.torrent_finished_alert) and self.finished_at is None:
            self.finished_at = now
        elif isinstance(a, lt.metadata_received_alert) and self.metadata_at is None:
            self.metadata_at = now
        return a


def save_torrent(ti, path):
    """Writes the torrent's metadata (the info dictionary, as received)."""
    data = lt.bencode(lt.create_torrent(ti).generate())
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


class DhtWatch:
    """With --dht-bootstrap: re-announces the torrent, re-adds the bootstrap
    nodes while the routing table is empty, and notes where peers came from."""

    def __init__(self, ses, h, args):
        self.ses, self.h, self.args = ses, h, args
        self.on = bool(args.dht_bootstrap)
        self.last_announce = 0.0
        self.last_sample = 0.0
        self.nodes = 0
        self.announces = 0
        self.sources = {}  # "HOST:PORT" -> set of sources seen ("dht", "tracker", ...)

    def tick(self, now):
        if not self.on:
            return
        if now - self.last_sample >= 1.0:
            self.last_sample = now
            self.nodes = self.ses.status().dht_nodes
        if len(self.sources) < MAX_RECORDS:
            for p in self.h.get_peer_info():
                key = "%s:%d" % tuple(p.ip)
                srcs = self.sources.setdefault(key, set())
                # 0x20: peer_source_flags::incoming (not exported to Python)
                for name, bit in (("tracker", lt.peer_info.tracker), ("dht", lt.peer_info.dht),
                                  ("pex", lt.peer_info.pex), ("incoming", 0x20)):
                    if p.source & bit:
                        srcs.add(name)
        if now - self.last_announce >= self.args.dht_announce:
            self.last_announce = now
            if self.nodes == 0:
                for node in self.args.dht_bootstrap:
                    self.ses.add_dht_node(node)
            self.h.force_dht_announce()
            self.announces += 1

    def describe(self):
        return " dht_nodes=%d" % self.nodes if self.on else ""

    def summary(self):
        if not self.on:
            return None
        return {"nodes": self.ses.status().dht_nodes, "announces": self.announces,
                "peer_sources": {k: sorted(v) for k, v in self.sources.items()}}


def main(argv):
    args = parse_args(argv)
    start = time.monotonic()
    stop = {"signal": None}

    def on_signal(signum, _frame):
        stop["signal"] = signum
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    parent = os.getppid()

    ses = make_session(args)
    if args.magnet:
        ti = None
        atp = lt.parse_magnet_uri(args.magnet)
    else:
        ti = lt.torrent_info(args.torrent)
        atp = lt.add_torrent_params()
        atp.ti = ti
    atp.save_path = args.save
    if args.seed and args.seed_mode:
        atp.flags |= lt.torrent_flags.seed_mode
    if args.no_trackers:
        atp.flags |= lt.torrent_flags.paused
    h = ses.add_torrent(atp)
    if args.no_trackers:
        h.replace_trackers([])
        h.resume()

    rep = Report()
    dht = DhtWatch(ses, h, args)
    last_print = 0.0
    last_reannounce = time.monotonic()
    last_connect = 0.0
    rc = None
    while rc is None:
        now = time.monotonic()
        for a in ses.pop_alerts():
            rep.on_alert(a, now)
        st = h.status()
        if st.errc.value() != 0:
            rep.errors.append(st.errc.message())
            rc = 2
            break
        checked = st.state in (lt.torrent_status.downloading, lt.torrent_status.finished,
                               lt.torrent_status.seeding)
        if ti is None and st.has_metadata:
            ti = h.torrent_file()
            print("METADATA name=%s pieces=%d after=%.1fs" % (
                ti.name(), ti.num_pieces(), now - start), flush=True)
            if args.save_torrent:
                save_torrent(ti, args.save_torrent)
        waiting_meta = ti is None and st.state == lt.torrent_status.downloading_metadata
        if (checked or waiting_meta) and rep.ready_at is None:
            rep.ready_at = now
            print("READY port=%d state=%s pieces=%d/%d" % (
                ses.listen_port(), st.state, st.num_pieces,
                ti.num_pieces() if ti is not None else 0), flush=True)
        dht.tick(now)
        if rep.first_byte_at is None and st.total_payload_download > 0:
            rep.first_byte_at = now
        if (checked or waiting_meta) and args.peer and now - last_connect >= 3.0 \
                and not st.is_seeding:
            # Re-dial the given peers until they answer; libtorrent keeps
            # banned ones out by itself.
            connected = {(p.ip[0], p.ip[1]) for p in h.get_peer_info()}
            for peer in args.peer:
                if peer not in connected:
                    h.connect_peer(peer)
            last_connect = now
        if checked and args.seed and args.peer and last_connect == 0.0:
            for peer in args.peer:
                h.connect_peer(peer)
            last_connect = now
        if args.reannounce and now - last_reannounce >= args.reannounce:
            h.force_reannounce()
            last_reannounce = now
        if not args.quiet and now - last_print >= args.interval:
            print("t=%.1f state=%s progress=%.1f%% down=%.2fMB/s up=%.2fMB/s peers=%d seeds=%d "
                  "done=%d up_total=%d hashfail=%d%s" % (
                      now - start, st.state, st.progress * 100, st.download_payload_rate / 1e6,
                      st.upload_payload_rate / 1e6, st.num_peers, st.num_seeds,
                      st.total_wanted_done, st.total_payload_upload, rep.hash_failed,
                      dht.describe()),
                  flush=True)
            last_print = now
        if args.leech and args.exit_when_done and st.is_finished and checked:
            rc = 0
        elif stop["signal"] is not None:
            rc = 0 if args.seed or st.is_finished else 1
        elif now - start > args.timeout:
            rc = 0 if args.seed or st.is_finished else 1
        elif os.getppid() != parent:
            rc = 0 if args.seed or st.is_finished else 1  # our parent died: do not linger
        else:
            ses.wait_for_alert(100)

    st = h.status()
    for a in ses.pop_alerts():
        rep.on_alert(a, time.monotonic())
    end = time.monotonic()
    dl_from = rep.first_byte_at if rep.first_byte_at is not None else rep.ready_at
    result = {
        "client": "libtorrent", "version": lt.__version__,
        "role": "seed" if args.seed else "leech",
        "ok": rc == 0, "rc": rc, "finished": bool(st.is_finished),
        "signal": stop["signal"], "seconds": round(end - start, 3),
        "ready_seconds": None if rep.ready_at is None else round(rep.ready_at - start, 3),
        "download_seconds": (round(rep.finished_at - dl_from, 3)
                             if rep.finished_at is not None and dl_from is not None else None),
        "progress": st.progress, "total_wanted": st.total_wanted,
        "total_wanted_done": st.total_wanted_done,
        "payload_download": st.total_payload_download,
        "payload_upload": st.total_payload_upload,
        "failed_bytes": st.total_failed_bytes, "redundant_bytes": st.total_redundant_bytes,
        "hash_failures": rep.hash_failed, "hash_failed_pieces": rep.hash_failed_pieces,
        "bans": rep.bans, "disconnects": rep.disconnects, "peer_errors": rep.peer_errors,
        "connects": rep.connects, "tracker_replies": rep.tracker_replies,
        "tracker_errors": rep.tracker_errors, "errors": rep.errors,
        "listen_port": ses.listen_port(),
        "info_hash": str(h.info_hash()),
        "metadata_seconds": (round(rep.metadata_at - start, 3)
                             if rep.metadata_at is not None else None),
        "dht": dht.summary(),
    }
    print(json.dumps(result), flush=True)
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
