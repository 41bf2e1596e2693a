#!/usr/bin/env bash
# The main job: a local swarm on loopback. rill's tracker, one seed and 8
# leechers run as separate rill processes, each held to its rates (seed 4
# MiB/s up; leechers 1 MiB/s up, 8 MiB/s down); the distribution time of a
# 32 MiB file is printed beside the textbook's bound. About 25 seconds.
set -euo pipefail
RILL=${1:-build/release/rill}
run() { printf '\n$ %s\n' "$*"; "$@"; }

run "$RILL" --version
printf '\n# What the textbook says for this swarm: client-server against peer-to-peer\n'
run "$RILL" model --file-size 32M --server-up 4M --peer-up 1M --peer-down 8M --peers 8
printf '\n# And a real one: 8 rill leechers fetching the file from one rill seed\n'
run "$RILL" swarm --peers 8 --size 32M --seed-up 4M --up 1M --down 8M
