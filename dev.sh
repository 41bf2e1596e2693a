#!/usr/bin/env bash
# rill's one entry point for a fresh Debian 12 machine (run as root):
#   ./dev.sh demo   install what is missing, build, run the main job (a swarm on loopback)
#   ./dev.sh test   install what is missing, build with sanitizers, run every test
# Also: ./dev.sh deps | build | bench
set -euo pipefail
cd "$(dirname "$0")"
JOBS=$(nproc)

BUILD_PKGS=(build-essential cmake pkg-config clang libclang-rt-dev libevent-dev libssl-dev
            libcmocka-dev openssl)
PEER_PKGS=(mktorrent transmission-cli transmission-daemon aria2 python3 python3-libtorrent
           opentracker hyperfine groff-base iproute2 util-linux)

deps() {
  local missing=()
  for p in "${BUILD_PKGS[@]}" "${PEER_PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "dev.sh: installing ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian enables opentracker's system service; tests start their own.
  $sudo systemctl disable --now opentracker >/dev/null 2>&1 || true
}

build_release() {
  cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DRILL_TESTS=OFF >/dev/null
  cmake --build build/release -j"$JOBS" >/dev/null
}

build_test() {
  cmake -S . -B build/test -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
        -DRILL_SANITIZE=ON -DRILL_FUZZ=ON -DRILL_FUZZ_SECONDS="${RILL_FUZZ_SECONDS:-10}" >/dev/null
  cmake --build build/test -j"$JOBS"
}

run_tests() {
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  ctest --test-dir build/test --output-on-failure -j"$JOBS" "$@"
}

case "${1:-}" in
  deps) deps ;;
  build) deps; build_release; echo "built build/release/rill" ;;
  demo) deps; build_release; exec scripts/demo.sh build/release/rill ;;
  # The release build too: gcc -O2 warns where clang -O0 does not, and the
  # demo builds with it.
  test) shift; deps; build_release; build_test; run_tests "$@" ;;
  bench) deps; exec bench/create/run.sh ;;
  *) echo "usage: ./dev.sh demo|test|deps|build|bench" >&2; exit 2 ;;
esac
