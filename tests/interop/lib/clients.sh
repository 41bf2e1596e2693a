# shellcheck shell=bash
# Helpers that run real BitTorrent clients on loopback for rill's interop and
# fault tests. Source it after tests/lib/common.sh (which gives WORK,
# track_pid, fail, pass, gen_file, need):
#
#   . "$(dirname "$0")/../lib/common.sh"
#   . "$(dirname "$0")/lib/clients.sh"
#
# Every process is started in the background under `timeout` (a hard cap of
# HARNESS_LIFETIME seconds, default 600), registered with track_pid, given a
# NAME, and logged to $LOGS/NAME.log. Everything listens on 127.0.0.x only,
# with DHT, LSD, PEX, UPnP, NAT-PMP and uTP off (the DHT helpers below turn
# the DHT on, joined through a given loopback node only). Waits are bounded and fail
# with a message that says what was awaited; when the script exits non-zero,
# the tail of every log is printed (HARNESS_LOG_LINES, default 40) and, with
# HARNESS_KEEP=1, the logs are copied to a directory that survives the run.
# See /work/shared/INTEROP.md for why each client is configured as it is.
#
# Processes:  spawn NAME CMD... | proc_alive NAME | proc_pid NAME | wait_log NAME RE T
#             wait_exit NAME T [RC] (sets EXIT_RC) | stop_proc NAME | stop_all
#             last_json NAME | dump_logs_on_failure (automatic on failure)
# Network:    free_port | wait_for_port HOST PORT T [tcp|udp] [NAME]
#             check_loopback_only NAME... | info_hash TORRENT
# Files:      wait_file_equal SRC DST T
# Tracker:    start_opentracker DIR PORT HASH... | opentracker_allow HASH...
# Clients:    lt_seed / lt_leech NAME TORRENT DIR PORT [ADDR] [lt_client.py opts]
#             aria2_seed / aria2_leech NAME TORRENT DIR PORT [ADDR] [aria2c opts]
#             transmission_start CONFIGDIR PEERPORT RPCPORT ADDR
#             transmission_add TORRENT DIR [CONFIGDIR] | transmission_wait_done T [CONFIGDIR]
#             transmission_stop [CONFIGDIR]
#             rill_seed NAME TORRENT DIR PORT [opts] | rill_get NAME TORRENT DIR [opts]
# DHT:        magnet_of TORRENT | rill_dht_node NAME ADDR PORT [opts]
#             rill_seed_dht NAME TORRENT DIR PORT ADDR BOOT [opts]
#             rill_get_dht NAME TORRENT|MAGNET DIR PORT ADDR BOOT [opts]
#             lt_magnet NAME MAGNET DIR PORT ADDR BOOT [lt_client.py opts]
#             (lt_seed passes --dht-bootstrap BOOT through to lt_client.py)
# Namespace:  netns_addrs PREFIX N... | check_bound_only NAME PREFIX...
#             transmission_dht_bootstrap / transmission_dht_nodes CONFIGDIR HOST:PORT...
# Tools:      evil_peer NAME TORRENT DATA PORT MODE [opts] | bt_splice NAME TORRENT A B

HARNESS_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
HARNESS_PY=$HARNESS_LIB/harness.py
LT_CLIENT=$HARNESS_LIB/lt_client.py
HARNESS_TOOLS=$(cd "$HARNESS_LIB/../.." && pwd)/tools
PY=${PY:-/usr/bin/python3}
HARNESS_LIFETIME=${HARNESS_LIFETIME:-600}
HARNESS_LOG_LINES=${HARNESS_LOG_LINES:-40}
# aria2 re-announces this often (seconds), so a seeder finds leechers that
# announce after it (Transmission never dials loopback peers itself).
ARIA2_TRACKER_INTERVAL=${ARIA2_TRACKER_INTERVAL:-3}
LOGS=$WORK/logs
mkdir -p "$LOGS"
declare -gA HPID=() HLOG=() HTRCFG=()
HNAMES=()

# wait_tracker_count URL HEX seeders|leechers N TIMEOUT: until the tracker
# knows N of them. A client that only accepts connections (Transmission on
# loopback) must be known to the tracker before another client announces,
# or that client learns of it only at its next interval.
wait_tracker_count() {
  local url=$1 hash=$2 kind=$3 n=$4 timeout=$5 i counts
  for ((i = 0; i < timeout * 5; i++)); do
    read -r -a counts < <("$PY" "$HARNESS_PY" scrape "$url" "$hash")
    [ "${counts[$([ "$kind" = seeders ] && echo 0 || echo 1)]}" -ge "$n" ] && return 0
    sleep 0.2
  done
  fail "the tracker did not see $n $kind of $hash within ${timeout}s"
}

# ---------------------------------------------------------------- processes

# spawn NAME CMD...: start CMD in the background under a hard time cap, with
# stdout and stderr in $LOGS/NAME.log. The PID (of `timeout`, which forwards
# signals to CMD) goes to track_pid and HPID[NAME].
spawn() {
  local name=$1; shift
  [ -z "${HPID[$name]:-}" ] || fail "spawn: process name '$name' already in use"
  local log=$LOGS/$name.log
  timeout -k 5 "$HARNESS_LIFETIME" "$@" >"$log" 2>&1 </dev/null &
  local pid=$!
  track_pid "$pid"
  HPID[$name]=$pid
  HLOG[$name]=$log
  HNAMES+=("$name")
  echo "$*" >"$LOGS/$name.cmd"
}

# proc_alive NAME: true while the process runs.
proc_alive() { kill -0 "${HPID[$1]:?unknown process $1}" 2>/dev/null; }

# proc_pid NAME: the PID of the command itself (not of its `timeout`), for /proc.
proc_pid() {
  local pid=${HPID[$1]:?unknown process $1} kids
  kids=$(cat "/proc/$pid/task/$pid/children" 2>/dev/null || pgrep -P "$pid" || true)
  set -- $kids
  echo "${1:-$pid}"
}

# wait_log NAME REGEX TIMEOUT [WHAT]: wait until NAME's log matches REGEX
# (grep -E); fail if NAME exits first or TIMEOUT seconds pass.
wait_log() {
  local name=$1 re=$2 t=$3 what=${4:-"'$2' in its log"}
  local end=$((EPOCHSECONDS + t))
  while ! grep -Eq -- "$re" "${HLOG[$name]}" 2>/dev/null; do
    if ! proc_alive "$name"; then
      grep -Eq -- "$re" "${HLOG[$name]}" && return 0
      fail "$name exited while waiting for $what"
    fi
    ((EPOCHSECONDS < end)) || fail "$name: no $what within ${t}s"
    sleep 0.1
  done
}

# wait_exit NAME TIMEOUT [WANT_RC]: wait for NAME to exit, set EXIT_RC to its
# status; fail if it is still running after TIMEOUT seconds or, when WANT_RC
# is given, if it exited with another status.
wait_exit() {
  local name=$1 t=$2 want=${3:-} pid=${HPID[$1]:?unknown process $1}
  local end=$((EPOCHSECONDS + t))
  while proc_alive "$name"; do
    ((EPOCHSECONDS < end)) || fail "$name did not finish within ${t}s"
    sleep 0.1
  done
  EXIT_RC=0
  wait "$pid" 2>/dev/null || EXIT_RC=$?
  if [ -n "$want" ] && [ "$EXIT_RC" -ne "$want" ]; then
    fail "$name exited with status $EXIT_RC, want $want"
  fi
  return 0
}

# stop_proc NAME [GRACE]: SIGTERM, then SIGKILL after GRACE seconds (10).
stop_proc() {
  local name=$1 grace=${2:-10} pid=${HPID[$1]:?unknown process $1} child
  proc_alive "$name" || return 0
  child=$(proc_pid "$name")
  kill -TERM "$pid" 2>/dev/null || true
  local end=$((EPOCHSECONDS + grace))
  while proc_alive "$name" && ((EPOCHSECONDS < end)); do sleep 0.1; done
  if proc_alive "$name"; then
    echo "note: $name ignored SIGTERM for ${grace}s; killing it" >&2
    kill -KILL "$child" "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

# stop_all: stop every process started here, clients first, then trackers,
# all within about 12 s whatever they do.
stop_all() {
  local name pids=() trackers=()
  for name in "${HNAMES[@]}"; do
    proc_alive "$name" || continue
    case $name in opentracker*) trackers+=("$name") ;; *) pids+=("${HPID[$name]}") ;; esac
  done
  ((${#pids[@]} == 0)) || kill -TERM "${pids[@]}" 2>/dev/null || true
  local end=$((EPOCHSECONDS + 10)) alive=1
  while ((alive && EPOCHSECONDS < end)); do
    alive=0
    for name in "${HNAMES[@]}"; do
      case $name in opentracker*) continue ;; esac
      proc_alive "$name" && alive=1
    done
    ((alive)) && sleep 0.1
  done
  for name in "${HNAMES[@]}"; do
    case $name in opentracker*) continue ;; esac
    if proc_alive "$name"; then
      echo "note: $name ignored SIGTERM for 10s; killing it" >&2
      kill -KILL "$(proc_pid "$name")" "${HPID[$name]}" 2>/dev/null || true
    fi
  done
  for name in "${trackers[@]}"; do stop_proc "$name" 2; done
  return 0
}

# last_json NAME: the last line of NAME's log that starts with '{'.
last_json() { grep '^{' "${HLOG[$1]}" | tail -n 1; }

# dump_logs_on_failure: print the tail of every log, and of client state
# that only exists while they run (Transmission's torrent list).
dump_logs_on_failure() {
  local f name
  {
    echo "==== harness logs ($LOGS) ===="
    for name in "${!HTRCFG[@]}"; do
      proc_alive "$name" || continue
      echo "---- $name: transmission-remote -t all -i"
      _tr_remote "${HTRCFG[$name]}" -t all -i 2>&1 | tail -n "$HARNESS_LOG_LINES" || true
    done
    for f in "$LOGS"/*; do
      [ -f "$f" ] || continue
      echo "---- $(basename "$f") (last $HARNESS_LOG_LINES lines)"
      tail -n "$HARNESS_LOG_LINES" "$f"
    done
    echo "==== end of harness logs ===="
  } >&2
  if [ "${HARNESS_KEEP:-0}" = 1 ]; then
    local keep
    keep=$(mktemp -d "${TMPDIR:-/tmp}/rill-interop-logs.XXXXXX")
    cp -r "$LOGS/." "$keep/" 2>/dev/null || true
    echo "logs kept in $keep" >&2
  fi
}

_harness_exit() {
  local rc=$?
  trap - EXIT
  ((rc == 0)) || dump_logs_on_failure
  stop_all
  cleanup
  exit "$rc"
}
trap _harness_exit EXIT

# ------------------------------------------------------------ network, files

# free_port: print a TCP+UDP port nobody uses now (below the ephemeral range,
# never the same twice in one test).
free_port() { "$PY" "$HARNESS_PY" free-port "$WORK/.ports"; }

# wait_for_port HOST PORT TIMEOUT [tcp|udp] [NAME]: wait until something
# listens on HOST:PORT (or on the wildcard address); fail early if process
# NAME exits.
wait_for_port() {
  local host=$1 port=$2 t=$3 proto=${4:-tcp} name=${5:-}
  local end=$((EPOCHSECONDS + t))
  until "$PY" "$HARNESS_PY" listening "$proto" "$host" "$port"; do
    if [ -n "$name" ] && ! proc_alive "$name"; then
      fail "$name exited before listening on $proto $host:$port"
    fi
    ((EPOCHSECONDS < end)) || fail "nothing listens on $proto $host:$port after ${t}s${name:+ ($name)}"
    sleep 0.1
  done
}

# check_loopback_only NAME...: every socket these processes listen on is on
# a loopback address (127.x or ::1): proof that DHT, LSD and friends are off.
check_loopback_only() {
  local name proto ip port pid
  for name in "$@"; do
    proc_alive "$name" || fail "check_loopback_only: $name is not running"
    while read -r proto ip port pid; do
      [ -n "$proto" ] || continue
      case $ip in 127.*|::1) ;; *) fail "$name (pid $pid) listens on $proto $ip:$port (not loopback)" ;; esac
    done < <("$PY" "$HARNESS_PY" sockets "${HPID[$name]}")
  done
}

# info_hash TORRENT: hex v1 info-hash (read with the standard library).
info_hash() { "$PY" "$HARNESS_PY" infohash "$1"; }

# wait_file_equal SRC DST TIMEOUT: wait until DST has SRC's size and SHA-1.
wait_file_equal() {
  local src=$1 dst=$2 t=$3 want size have=""
  want=$(sha1sum <"$src" | cut -d' ' -f1)
  size=$(stat -c %s "$src")
  local end=$((EPOCHSECONDS + t))
  while :; do
    if [ -f "$dst" ] && [ "$(stat -c %s "$dst")" -eq "$size" ]; then
      have=$(sha1sum <"$dst" | cut -d' ' -f1)
      [ "$have" != "$want" ] || return 0
    fi
    if ((EPOCHSECONDS >= end)); then
      local got="missing"
      [ -f "$dst" ] && got="$(stat -c %s "$dst") bytes, sha1 ${have:-not computed}"
      fail "$dst: not equal to $src ($size bytes, sha1 $want) after ${t}s: $got"
    fi
    sleep 0.5
  done
}

# ----------------------------------------------------------------- opentracker

# start_opentracker DIR PORT HASH...: Debian's opentracker, serving only the
# whitelisted HASHes, on TCP and UDP 127.0.0.1:PORT. Sets TRACKER_URL,
# TRACKER_UDP_URL, TRACKER_DIR and TRACKER_NAME.
# As root, opentracker chroots to -d DIR and drops to -u nobody before it
# reads the whitelist; as another user it only chdirs to DIR. A relative
# whitelist path inside a world-readable DIR works both ways.
start_opentracker() {
  local dir=$1 port=$2; shift 2
  need opentracker
  mkdir -p "$dir"
  printf '%s\n' "$@" >"$dir/whitelist.txt"
  cat >"$dir/opentracker.conf" <<EOF
access.whitelist whitelist.txt
listen.tcp 127.0.0.1:$port
listen.udp 127.0.0.1:$port
EOF
  chmod 755 "$dir"
  chmod 644 "$dir/whitelist.txt" "$dir/opentracker.conf"
  TRACKER_NAME=opentracker-$port
  TRACKER_DIR=$dir
  TRACKER_URL=http://127.0.0.1:$port/announce
  TRACKER_UDP_URL=udp://127.0.0.1:$port/announce
  spawn "$TRACKER_NAME" opentracker -f "$dir/opentracker.conf" -d "$dir" -u nobody
  wait_for_port 127.0.0.1 "$port" 10 tcp "$TRACKER_NAME"
  wait_for_port 127.0.0.1 "$port" 10 udp "$TRACKER_NAME"
  [ $# -eq 0 ] || _tracker_wait_serves "$1"
}

# The whitelist is read by a thread after startup: wait until it is in force.
_tracker_wait_serves() {
  local end=$((EPOCHSECONDS + 10)) rc
  while :; do
    rc=0
    "$PY" "$HARNESS_PY" probe "$TRACKER_URL" "$1" 2>"$LOGS/probe.err" || rc=$?
    ((rc != 0)) || return 0
    ((EPOCHSECONDS < end)) || fail "opentracker does not serve $1: $(cat "$LOGS/probe.err")"
    sleep 0.1
  done
}

# opentracker_allow HASH...: add HASHes to the running tracker's whitelist.
opentracker_allow() {
  printf '%s\n' "$@" >>"$TRACKER_DIR/whitelist.txt"
  kill -HUP "$(proc_pid "$TRACKER_NAME")"
  local h
  for h in "$@"; do _tracker_wait_serves "$h"; done
}

# ------------------------------------------------------------------ libtorrent

# Positional ADDR is optional: taken when the argument does not start with '-'.
_addr_arg() { case ${1:-} in ''|-*) echo 127.0.0.1 ;; *) echo "$1" ;; esac; }

# lt_seed NAME TORRENT DIR PORT [ADDR] [lt_client.py options...]: libtorrent
# seeding DIR's data on ADDR:PORT; returns once the data is checked.
lt_seed() {
  local name=$1 torrent=$2 dir=$3 port=$4; shift 4
  local addr; addr=$(_addr_arg "${1:-}")
  [ $# -gt 0 ] && [ "${1:0:1}" != - ] && shift
  spawn "$name" "$PY" "$LT_CLIENT" --torrent "$torrent" --save "$dir" --seed \
    --port "$port" --bind "$addr" --timeout "$HARNESS_LIFETIME" "$@"
  wait_log "$name" '^READY' 120 "READY (data checked)"
}

# lt_leech NAME TORRENT DIR PORT [ADDR] [lt_client.py options...]: libtorrent
# downloading into DIR, exiting 0 when done (see wait_exit); returns once it
# listens. Options such as --peer HOST:PORT, --max-down 1M pass through.
lt_leech() {
  local name=$1 torrent=$2 dir=$3 port=$4; shift 4
  local addr; addr=$(_addr_arg "${1:-}")
  [ $# -gt 0 ] && [ "${1:0:1}" != - ] && shift
  mkdir -p "$dir"
  spawn "$name" "$PY" "$LT_CLIENT" --torrent "$torrent" --save "$dir" --leech \
    --exit-when-done --port "$port" --bind "$addr" --timeout "$HARNESS_LIFETIME" "$@"
  wait_log "$name" '^READY' 60 "READY"
}

# ----------------------------------------------------------------------- aria2

_aria2_common() { # NAME PORT ADDR: sets ARIA2_ARGS
  ARIA2_ARGS=(--no-conf=true --enable-dht=false --enable-dht6=false --bt-enable-lpd=false
    --enable-peer-exchange=false --file-allocation=none --disable-ipv6=true
    --listen-port="$2" --interface="$3" --summary-interval=0
    --bt-tracker-interval="$ARIA2_TRACKER_INTERVAL" --stop-with-process=$$
    --allow-overwrite=true --auto-file-renaming=false --enable-color=false
    --console-log-level=notice --log="$LOGS/$1.aria2.log"
    --log-level="${ARIA2_LOG_LEVEL:-notice}")
}

# aria2_seed NAME TORRENT DIR PORT [ADDR] [aria2c options...]: aria2 seeding
# DIR's data (unverified) on ADDR:PORT. aria2 finds peers through the
# torrent's tracker only; it re-announces every ARIA2_TRACKER_INTERVAL s.
aria2_seed() {
  local name=$1 torrent=$2 dir=$3 port=$4; shift 4
  local addr; addr=$(_addr_arg "${1:-}")
  [ $# -gt 0 ] && [ "${1:0:1}" != - ] && shift
  need aria2c
  _aria2_common "$name" "$port" "$addr"
  spawn "$name" aria2c "${ARIA2_ARGS[@]}" --bt-seed-unverified=true --seed-ratio=0.0 \
    --seed-time="$(( (HARNESS_LIFETIME + 59) / 60 ))" -d "$dir" "$@" "$torrent"
  wait_for_port "$addr" "$port" 30 tcp "$name"
}

# aria2_leech NAME TORRENT DIR PORT [ADDR] [aria2c options...]: aria2
# downloading into DIR and exiting 0 when done (see wait_exit).
aria2_leech() {
  local name=$1 torrent=$2 dir=$3 port=$4; shift 4
  local addr; addr=$(_addr_arg "${1:-}")
  [ $# -gt 0 ] && [ "${1:0:1}" != - ] && shift
  need aria2c
  mkdir -p "$dir"
  _aria2_common "$name" "$port" "$addr"
  spawn "$name" aria2c "${ARIA2_ARGS[@]}" --seed-time=0 -d "$dir" "$@" "$torrent"
  wait_for_port "$addr" "$port" 30 tcp "$name"
}

# ---------------------------------------------------------------- Transmission

TR_CUR=
_tr_cfg() { local c=${1:-$TR_CUR}; [ -n "$c" ] || fail "no transmission-daemon started"; echo "$c"; }
_tr_remote() { # CONFIGDIR ARGS...
  local cfg=$1; shift
  timeout 10 transmission-remote "127.0.0.1:$(cat "$cfg/.rpc-port")" "$@"
}

# transmission_start CONFIGDIR PEERPORT RPCPORT ADDR: a transmission-daemon
# with its own loopback address ADDR (it remembers finished peers by address)
# and RPC on 127.0.0.1:RPCPORT. TR_DHT_ENABLED=true turns its DHT on (it
# joins through CONFIGDIR/dht.bootstrap, lines "HOST PORT"; TR_DHT_VERBOSE=1
# in the environment makes it log its DHT traffic). It never dials 127.x peers that a tracker
# names, but accepts their connections. The other transmission_* helpers act
# on this daemon unless given its CONFIGDIR. Process name: tr-BASENAME.
transmission_start() {
  local cfg=$1 pport=$2 rport=$3 addr=$4 name
  need transmission-daemon; need transmission-remote
  mkdir -p "$cfg/downloads"
  cfg=$(cd "$cfg" && pwd)
  name=tr-$(basename "$cfg")
  cat >"$cfg/done.sh" <<EOF
#!/bin/sh
echo "\$(date +%s.%N) \$TR_TORRENT_NAME" > "$cfg/done-\$TR_TORRENT_HASH"
EOF
  chmod +x "$cfg/done.sh"
  cat >"$cfg/settings.json" <<EOF
{
  "bind-address-ipv4": "$addr",
  "bind-address-ipv6": "::1",
  "peer-port": $pport,
  "peer-port-random-on-start": false,
  "port-forwarding-enabled": false,
  "dht-enabled": ${TR_DHT_ENABLED:-false},
  "lpd-enabled": false,
  "pex-enabled": false,
  "utp-enabled": false,
  "rpc-enabled": true,
  "rpc-bind-address": "127.0.0.1",
  "rpc-port": $rport,
  "rpc-whitelist-enabled": false,
  "rpc-host-whitelist-enabled": false,
  "rpc-authentication-required": false,
  "download-dir": "$cfg/downloads",
  "incomplete-dir-enabled": false,
  "start-added-torrents": true,
  "download-queue-enabled": false,
  "seed-queue-enabled": false,
  "queue-stalled-enabled": false,
  "ratio-limit-enabled": false,
  "idle-seeding-limit-enabled": false,
  "speed-limit-up-enabled": false,
  "speed-limit-down-enabled": false,
  "alt-speed-enabled": false,
  "blocklist-enabled": false,
  "watch-dir-enabled": false,
  "script-torrent-done-enabled": true,
  "script-torrent-done-filename": "$cfg/done.sh",
  "message-level": ${TR_MESSAGE_LEVEL:-2}
}
EOF
  echo "$rport" >"$cfg/.rpc-port"
  echo "$name" >"$cfg/.name"
  spawn "$name" transmission-daemon -f -g "$cfg"
  HTRCFG[$name]=$cfg
  TR_CUR=$cfg
  wait_for_port "$addr" "$pport" 30 tcp "$name"
  local end=$((EPOCHSECONDS + 30))
  until _tr_remote "$cfg" -l >/dev/null 2>&1; do
    proc_alive "$name" || fail "$name exited while starting"
    ((EPOCHSECONDS < end)) || fail "$name: RPC on 127.0.0.1:$rport does not answer after 30s"
    sleep 0.2
  done
}

# transmission_add TORRENT DIR [CONFIGDIR]: add TORRENT with its data in DIR
# (existing data is verified, then seeded).
transmission_add() {
  local cfg; cfg=$(_tr_cfg "${3:-}")
  mkdir -p "$2"
  local out
  out=$(_tr_remote "$cfg" -a "$1" -w "$(cd "$2" && pwd)" 2>&1) ||
    fail "transmission-remote -a $1: $out"
  grep -q success <<<"$out" || fail "transmission-remote -a $1: $out"
}

# _tr_state CONFIGDIR: "PERCENT STATE" of the daemon's (first) torrent.
_tr_state() {
  _tr_remote "$1" -t all -i 2>/dev/null |
    awk -F': ' '/Percent Done:/ { p = $2 } /^ *State:/ { s = $2 } END { print p, s }'
}

# transmission_wait_done TIMEOUT [CONFIGDIR]: wait until its torrent is
# complete: the torrent-done script ran (it writes CONFIGDIR/done-HASH with
# the time, in seconds since the epoch), or RPC reports 100% and not checking.
transmission_wait_done() {
  local t=$1 cfg; cfg=$(_tr_cfg "${2:-}")
  local name; name=$(cat "$cfg/.name")
  local end=$((EPOCHSECONDS + t)) tick=0 st=""
  while :; do
    compgen -G "$cfg/done-*" >/dev/null && return 0
    if ((tick % 5 == 0)); then
      st=$(_tr_state "$cfg")
      case $st in "100% Seeding"|"100% Idle"|"100% Finished") return 0 ;; esac
    fi
    proc_alive "$name" || fail "$name exited before its torrent completed"
    ((EPOCHSECONDS < end)) || fail "$name: torrent not complete after ${t}s (state: $st)"
    tick=$((tick + 1))
    sleep 0.2
  done
}

# transmission_stop [CONFIGDIR]: stop the daemon (it sends 'stopped' announces).
transmission_stop() {
  local cfg; cfg=$(_tr_cfg "${1:-}")
  stop_proc "$(cat "$cfg/.name")" 15
}

# --------------------------------------------------------- rill and the tools

# rill_seed NAME TORRENT DIR PORT [rill options...]: `rill seed` on PORT;
# returns once it listens (on the --bind address if one is given; it may
# still be checking data).
rill_seed() {
  local name=$1 torrent=$2 dir=$3 port=$4; shift 4
  local addr=127.0.0.1 prev="" a
  for a in "$@"; do
    case $a in --bind=*) addr=${a#--bind=} ;; *) [ "$prev" != --bind ] || addr=$a ;; esac
    prev=$a
  done
  spawn "$name" "$RILL" seed "$torrent" "$dir" --port "$port" --no-dht --no-lsd "$@"
  wait_for_port "$addr" "$port" 60 tcp "$name"
}

# rill_get NAME TORRENT DIR [rill options...]: `rill get` in the background;
# use wait_exit NAME TIMEOUT 0 for its end.
rill_get() {
  local name=$1 torrent=$2 dir=$3; shift 3
  mkdir -p "$dir"
  spawn "$name" "$RILL" get "$torrent" -o "$dir" --no-dht --no-lsd "$@"
}

# evil_peer NAME TORRENT DATA PORT MODE [evil_peer.py options...]: a hostile
# seed (tests/tools/evil_peer.py) listening on 127.0.0.1:PORT.
evil_peer() {
  local name=$1 torrent=$2 data=$3 port=$4 mode=$5; shift 5
  local addr=127.0.0.1 prev=
  for a in "$@"; do [ "$prev" = --bind ] && addr=$a; prev=$a; done
  spawn "$name" "$PY" "$HARNESS_TOOLS/evil_peer.py" --torrent "$torrent" --data "$data" \
    --listen "$port" --mode "$mode" --timeout "$HARNESS_LIFETIME" "$@"
  wait_for_port "$addr" "$port" 10 tcp "$name"
}

# bt_splice NAME TORRENT HOST:PORT HOST:PORT: dial two peers that only accept
# connections (two Transmissions) and join them (tests/tools/bt_splice.py).
bt_splice() {
  local name=$1 torrent=$2 a=$3 b=$4; shift 4
  spawn "$name" "$PY" "$HARNESS_TOOLS/bt_splice.py" --torrent "$torrent" --a "$a" --b "$b" \
    --timeout "$HARNESS_LIFETIME" "$@"
  wait_log "$name" '^SPLICED' 30 "both handshakes"
}

# ------------------------------------------------------------------------ DHT
# Trackerless swarms on loopback: a `rill dht` node everyone joins through,
# and clients with their DHT on, bound to their own 127.0.0.x address.

# magnet_of TORRENT: a magnet link with the info-hash only (no name, no
# tracker, no peer): everything else must come from the DHT and the peers.
magnet_of() { echo "magnet:?xt=urn:btih:$(info_hash "$1")"; }

# rill_dht_node NAME ADDR PORT [rill dht options...]: a `rill dht` node on UDP
# ADDR:PORT (IPv4 only, no state file). Give it a --bootstrap: without one it
# would try the well-known routers on the Internet.
rill_dht_node() {
  local name=$1 addr=$2 port=$3; shift 3
  spawn "$name" "$RILL" dht --no-state -4 --bind "$addr" --port "$port" "$@"
  wait_for_port "$addr" "$port" 10 udp "$name"
}

# rill_seed_dht NAME TORRENT DIR PORT ADDR BOOT [rill options...]: `rill seed`
# on ADDR:PORT with its DHT node on UDP ADDR:PORT, joined through BOOT
# (HOST:PORT); no trackers, no local service discovery (peers on loopback
# must find each other through the DHT). Returns once it listens.
rill_seed_dht() {
  local name=$1 torrent=$2 dir=$3 port=$4 addr=$5 boot=$6; shift 6
  spawn "$name" "$RILL" seed "$torrent" "$dir" --port "$port" --bind "$addr" \
    --bootstrap "$boot" --no-trackers --no-lsd "$@"
  wait_for_port "$addr" "$port" 60 tcp "$name"
  wait_for_port "$addr" "$port" 10 udp "$name"
}

# rill_get_dht NAME TORRENT|MAGNET DIR PORT ADDR BOOT [rill options...]:
# `rill get` in the background, on ADDR:PORT with its DHT joined through
# BOOT, no local service discovery; use wait_exit NAME TIMEOUT 0 for its end.
rill_get_dht() {
  local name=$1 src=$2 dir=$3 port=$4 addr=$5 boot=$6; shift 6
  mkdir -p "$dir"
  spawn "$name" "$RILL" get "$src" -o "$dir" --port "$port" --bind "$addr" \
    --bootstrap "$boot" --no-lsd "$@"
}

# lt_magnet NAME MAGNET DIR PORT ADDR BOOT [lt_client.py options...]:
# libtorrent adds MAGNET (no peers, no trackers) with its DHT on, joined
# through BOOT, and exits 0 once the download is complete (see wait_exit);
# it writes the metadata it fetched to DIR.torrent. Returns once it listens.
lt_magnet() {
  local name=$1 magnet=$2 dir=$3 port=$4 addr=$5 boot=$6; shift 6
  mkdir -p "$dir"
  spawn "$name" "$PY" "$LT_CLIENT" --magnet "$magnet" --save "$dir" --leech \
    --exit-when-done --port "$port" --bind "$addr" --dht-bootstrap "$boot" \
    --save-torrent "$dir.torrent" --timeout "$HARNESS_LIFETIME" "$@"
  wait_log "$name" '^READY' 60 "READY"
}

# ------------------------------------------------ private network namespace
# For clients that refuse 127.x peers and DHT nodes (Transmission): a test
# re-runs itself under `unshare -n` (see tests/interop/magnet_dht_tr.sh),
# then gives each process its own private address there. Nothing in such a
# namespace can reach any other network.

# netns_addrs PREFIX N...: in a network namespace of our own, bring lo up and
# put PREFIX.N/24 for each N on an interface: a dummy one (d0) if the kernel
# has the driver, else one end of a veth pair (v0, its peer v1 also up), else
# lo itself. Sets NETNS_DEV to the interface used. Fails outside a namespace
# this test created (it would change the host's network): the caller sets
# RILL_IN_NETNS=1 when it re-executed itself under unshare -n.
netns_addrs() {
  local prefix=$1 n; shift
  [ "${RILL_IN_NETNS:-}" = 1 ] || fail "netns_addrs: not in a namespace of our own"
  need ip
  ip link set lo up || fail "ip link set lo up"
  if ip link add d0 type dummy 2>/dev/null; then
    NETNS_DEV=d0
  elif ip link add v0 type veth peer name v1 2>/dev/null; then
    NETNS_DEV=v0
    ip link set v1 up || fail "ip link set v1 up"
  else
    NETNS_DEV=lo
  fi
  for n in "$@"; do
    ip addr add "$prefix.$n/24" dev "$NETNS_DEV" || fail "ip addr add $prefix.$n/24 dev $NETNS_DEV"
  done
  ip link set "$NETNS_DEV" up || fail "ip link set $NETNS_DEV up"
}

# check_bound_only NAME PREFIX...: every socket NAME listens on is on an
# address starting with one of the PREFIXes (e.g. "10.99.0.4" "127.").
check_bound_only() {
  local name=$1 proto ip port pid p ok; shift
  proc_alive "$name" || fail "check_bound_only: $name is not running"
  while read -r proto ip port pid; do
    [ -n "$proto" ] || continue
    ok=0
    for p in "$@"; do case $ip in "$p"*) ok=1 ;; esac; done
    ((ok)) || fail "$name (pid $pid) listens on $proto $ip:$port (not on $*)"
  done < <("$PY" "$HARNESS_PY" sockets "${HPID[$name]}")
}

# transmission_dht_bootstrap CONFIGDIR HOST:PORT...: the DHT nodes a
# Transmission started later (TR_DHT_ENABLED=true) joins through, written
# to CONFIGDIR/dht.bootstrap as libtransmission reads it (tr-dht.c): one
# "HOST PORT" per line. It reads the file only without a usable dht.dat.
transmission_dht_bootstrap() {
  local cfg=$1 hp; shift
  mkdir -p "$cfg"
  : >"$cfg/dht.bootstrap"
  for hp in "$@"; do echo "${hp%:*} ${hp##*:}" >>"$cfg/dht.bootstrap"; done
}

# transmission_dht_nodes CONFIGDIR HOST:PORT...: the DHT nodes a Transmission
# started later remembers from an earlier run: CONFIGDIR/dht.dat as
# tr_dhtUninit writes it (bencoded {"nodes": compact IPv4 address+port...},
# no "id": it makes a new one). It pings them at once, about one every 2 s
# for the first 8 (tr-dht.c, dht_bootstrap), before it reads dht.bootstrap,
# whose nodes it pings one per 7-22 s. Its DHT announces only with at least
# 4 good nodes and 9 in all, and a fresh table learns of nodes from
# find_node replies without ever making them good: remembered nodes are the
# quick way there.
transmission_dht_nodes() {
  local cfg=$1; shift
  mkdir -p "$cfg"
  "$PY" - "$cfg/dht.dat" "$@" <<'PYEOF' || fail "transmission_dht_nodes: bad HOST:PORT in $*"
import socket, struct, sys
out, nodes = sys.argv[1], b""
for hp in sys.argv[2:]:
    host, port = hp.rsplit(":", 1)
    nodes += socket.inet_aton(host) + struct.pack(">H", int(port))
with open(out, "wb") as f:
    f.write(b"d5:nodes%d:%se" % (len(nodes), nodes))
PYEOF
}
