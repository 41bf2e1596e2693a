#!/usr/bin/env bash
# Fails if a pure core (src/core) reaches for sockets, libevent, threads, the
# clock or the global random generator (DESIGN.md: "The build enforces it").
set -u
root=${1:?usage: check_core_purity.sh SOURCE_DIR}
bad=$(grep -nE '#[[:space:]]*include[[:space:]]*<(event2/|sys/socket\.h|netinet/|arpa/inet\.h|pthread\.h)|\b(clock_gettime|gettimeofday|time|rand|srand|random|sleep|usleep)[[:space:]]*\(' \
      "$root"/src/core/*.c "$root"/src/core/*.h 2>/dev/null)
if [ -n "$bad" ]; then
  echo "src/core must stay pure; found:"; echo "$bad"; exit 1
fi
echo "src/core is pure ($(ls "$root"/src/core/*.c | wc -l) files checked)"
