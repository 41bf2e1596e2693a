#!/usr/bin/python3
"""The lab's anchor: the swarm `rill swarm` runs, made of libtorrent sessions.

One process, one libtorrent session per peer (a seed and N leechers), each on
its own 127.0.0.1 port with its own upload and download limits, all finding
each other through the tracker named in the torrent. The clock starts when
the seed has checked its data; the leechers are added then (a flash crowd),
and each one's completion is the first poll (every 20 ms) that finds it
finished. Prints one JSON object like `rill swarm --json`'s essentials:
{"engine": "libtorrent", "peers", "distribution_time_s", "completions": [...]}.

Usage: lt_swarm.py --torrent T --content DIR --work DIR --peers N
                   --seed-up BYTES --up BYTES --down BYTES [--mode p2p|client-server]
                   [--timeout S]
"""
import argparse
import json
import os
import sys
import time

import libtorrent as lt


def session(port, up, down):
    s = {
        "listen_interfaces": "127.0.0.1:%d" % port,
        "outgoing_interfaces": "127.0.0.1",
        "enable_dht": False, "enable_lsd": False,
        "enable_upnp": False, "enable_natpmp": False,
        "enable_outgoing_utp": False, "enable_incoming_utp": False,
        "allow_multiple_connections_per_ip": True,
        "upload_rate_limit": up, "download_rate_limit": down,
        "alert_mask": 0,
    }
    ses = lt.session(s, 0)
    # 127.0.0.0/8 is in libtorrent's local peer class, exempt from the global
    # limits: put every address in the global class so the limits hold.
    f = lt.ip_filter()
    f.add_rule("0.0.0.0", "255.255.255.255", 1 << lt.session.global_peer_class_id)
    ses.set_peer_class_filter(f)
    return ses


def main(argv):
    p = argparse.ArgumentParser()
    p.add_argument("--torrent", required=True)
    p.add_argument("--content", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--peers", type=int, required=True)
    p.add_argument("--seed-up", type=int, required=True)
    p.add_argument("--up", type=int, required=True)
    p.add_argument("--down", type=int, default=0)
    p.add_argument("--mode", choices=["p2p", "client-server"], default="p2p")
    p.add_argument("--base-port", type=int, default=43000)
    p.add_argument("--timeout", type=float, default=600)
    a = p.parse_args(argv)
    info = lt.torrent_info(a.torrent)

    seed = session(a.base_port, a.seed_up, 0)
    h_seed = seed.add_torrent({"ti": info, "save_path": a.content})
    end = time.monotonic() + 120
    while not h_seed.status().is_seeding:
        if time.monotonic() > end:
            sys.exit("lt_swarm: the seed did not check its data in 120 s")
        time.sleep(0.02)

    leechers = []
    t0 = time.monotonic()
    for i in range(a.peers):
        # libtorrent has no "upload nothing": a client-server leecher gets no
        # upload slots, so it never unchokes anyone.
        ses = session(a.base_port + 1 + i, a.up if a.mode == "p2p" else 0, a.down)
        if a.mode == "client-server":
            ses.apply_settings({"unchoke_slots_limit": 0})
        d = os.path.join(a.work, "lt-peer%d" % i)
        os.makedirs(d, exist_ok=True)
        h = ses.add_torrent({"ti": info, "save_path": d})
        leechers.append({"ses": ses, "h": h, "done": None})

    end = t0 + a.timeout
    while time.monotonic() < end and any(x["done"] is None for x in leechers):
        now = time.monotonic() - t0
        for x in leechers:
            if x["done"] is None and x["h"].status().is_seeding:
                x["done"] = now
        time.sleep(0.02)

    out = {"engine": "libtorrent", "mode": a.mode, "peers": a.peers, "completions": []}
    for i, x in enumerate(leechers):
        st = x["h"].status()
        out["completions"].append({"peer": i, "seconds": x["done"],
                                   "uploaded": st.total_payload_upload,
                                   "downloaded": st.total_payload_download})
    done = [x["done"] for x in leechers]
    out["distribution_time_s"] = max(done) if all(t is not None for t in done) else None
    print(json.dumps(out))
    # Sessions are torn down by the interpreter; say nothing to trackers.
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
