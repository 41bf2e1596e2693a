#!/usr/bin/env python3
"""Run a command and write what it cost as JSON (standard library only).

  rusage.py OUT.json -- CMD ARGS...

OUT.json gets wall seconds (from just before the command starts until it is
reaped), user and system CPU seconds and peak RSS in KiB (wait4's ru_maxrss,
which covers the command and the children it waited for), and the exit
status. SIGTERM and SIGINT are passed on to the command. Exits with the
command's status.
"""
import json
import os
import signal
import subprocess
import sys
import time


def main(argv):
    if len(argv) < 3 or argv[1] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    out, cmd = argv[0], argv[2:]
    start = time.monotonic()
    proc = subprocess.Popen(cmd)

    def forward(signum, _frame):
        try:
            proc.send_signal(signum)
        except ProcessLookupError:
            pass
    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    while True:
        try:
            _, status, ru = os.wait4(proc.pid, 0)
            break
        except InterruptedError:
            continue
    wall = time.monotonic() - start
    rc = os.waitstatus_to_exitcode(status)
    with open(out + ".tmp", "w") as f:
        json.dump({"wall": round(wall, 4), "user": ru.ru_utime, "sys": ru.ru_stime,
                   "cpu": round(ru.ru_utime + ru.ru_stime, 4), "maxrss_kb": ru.ru_maxrss,
                   "rc": rc, "cmd": cmd}, f)
    os.replace(out + ".tmp", out)
    return rc if rc >= 0 else 128 - rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
