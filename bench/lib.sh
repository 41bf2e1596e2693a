# Shared by the bench scripts. Source it.

# bench_build_rill SRC BUILD LOG: a Release rill (no sanitizers, tests or
# fuzzers) built from SRC into BUILD, the build's output in LOG. Prints the
# binary's path; returns 1 if the build failed.
bench_build_rill() {
  local src=$1 build=$2 log=$3
  echo "== building Release rill into $build" >&2
  cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DRILL_SANITIZE=OFF -DRILL_FUZZ=OFF \
    -DRILL_TESTS=OFF >"$log" 2>&1 &&
    cmake --build "$build" -j"$(nproc)" --target rill >>"$log" 2>&1 &&
    echo "$build/rill"
}
