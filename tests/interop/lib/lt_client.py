#!/usr/bin/python3
"""A libtorrent peer for rill's interop tests, fault tests and benchmarks.

Run it with Debian's interpreter (/usr/bin/python3): python3-libtorrent is
installed for that one only.

  lt_client.py --torrent T --save DIR --seed  [--port N] [--bind 127.0.0.2]
  lt_client.py --torrent T --save DIR --leech --exit-when-done [--peer H:P]...

Everything that reaches out is off (DHT, LSD, UPnP, NAT-PMP, uTP, PEX); it
listens on --bind:--port only. It prints "READY port=N" once the torrent is
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

import libtorrent as lt

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
    p.add_argument("--torrent", required=True)
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
    args = p.parse_args(argv)
    if args.seed and args.exit_when_done:
        p.error("--exit-when-done is for --leech")
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
    # flags 0: no default plugins, since they include ut_pex; add back the
    # metadata extension and smart_ban (the ban logic the fault tests watch).
    ses = lt.session(s, 0)
    ses.add_extension("ut_metadata")
    ses.add_extension("smart_ban")
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
        return a


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
        if checked and rep.ready_at is None:
            rep.ready_at = now
            print("READY port=%d state=%s pieces=%d/%d" % (
                ses.listen_port(), st.state, st.num_pieces, ti.num_pieces()), flush=True)
        if rep.first_byte_at is None and st.total_payload_download > 0:
            rep.first_byte_at = now
        if checked and args.peer and now - last_connect >= 3.0 and not st.is_seeding:
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
                  "done=%d up_total=%d hashfail=%d" % (
                      now - start, st.state, st.progress * 100, st.download_payload_rate / 1e6,
                      st.upload_payload_rate / 1e6, st.num_peers, st.num_seeds,
                      st.total_wanted_done, st.total_payload_upload, rep.hash_failed),
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
    }
    print(json.dumps(result), flush=True)
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
