#!/usr/bin/env bash
# cmake --install puts the binary, man page, header, libraries and a
# pkg-config file in place, and a program can build against them.
set -euo pipefail
build=${1:?usage: install_check.sh BUILD_DIR CC [SANITIZE]}
cc=${2:-cc}
sanitize=${3:-OFF}
prefix=$(mktemp -d "${TMPDIR:-/tmp}/rill-install.XXXXXX")
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
for f in bin/rill share/man/man1/rill.1 include/rill.h; do
  [ -f "$prefix/$f" ] || { echo "FAIL: $f not installed"; exit 1; }
done
pc=$(find "$prefix" -name rill.pc | head -n 1)
[ -n "$pc" ] || { echo "FAIL: rill.pc not installed"; exit 1; }
"$prefix/bin/rill" --version | grep -q '^rill ' || { echo "FAIL: installed rill does not run"; exit 1; }
export PKG_CONFIG_PATH=$(dirname "$pc")
cat > "$prefix/use.c" <<'C'
#include <rill.h>
#include <stdio.h>
int main(void) { uint8_t h[20]; rill_sha1("abc", 3, h); char hex[41]; rill_hex(h, 20, hex); puts(hex); return 0; }
C
# A library built with sanitizers needs their runtime in the program too.
extra=""
[ "$sanitize" = ON ] && extra="-fsanitize=address,undefined"
"$cc" $extra "$prefix/use.c" -o "$prefix/use" $(pkg-config --cflags --libs --static rill)
[ "$("$prefix/use")" = a9993e364706816aba3e25717850c26c9cd0d89d ] || { echo "FAIL: linked program gave a wrong SHA-1"; exit 1; }
echo "ok: installed rill, rill.1, rill.h, librill and rill.pc; a program builds against rill.pc"
