#!/usr/bin/env bash
# The install test: `cmake --install` into a temporary prefix, then build the C example against the
# installed package twice — with pkg-config (shared and static) and with find_package(tickforge) — and
# run each build. Usage: install_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix

cmake --install "$build" --prefix "$prefix" >"$tmp/install.log"
test -f "$prefix/include/tickforge/tickforge.h"
libdir=$(dirname "$(find "$prefix" -name 'libtickforge.so' | head -n 1)")
test -n "$libdir"
pcdir=$(dirname "$(find "$prefix" -name 'tickforge.pc' | head -n 1)")
echo "installed: $(cd "$prefix" && find . -type f -o -type l | sort | tr '\n' ' ')"

# Only the C header is public: nothing from engine/ or feedhandlers/ is installed.
if find "$prefix/include" -name '*.hpp' | grep -q .; then
  echo "private C++ headers were installed"
  exit 1
fi

cc=${CC:-cc}
export PKG_CONFIG_PATH=$pcdir
echo "== pkg-config: $(pkg-config --modversion tickforge), cflags '$(pkg-config --cflags tickforge)', libs '$(pkg-config --libs tickforge)'"
# shellcheck disable=SC2046
"$cc" -std=c99 -Wall -Wextra -Werror -O2 $(pkg-config --cflags tickforge) "$src/examples/c/embed.c" -o "$tmp/embed_pc" \
  $(pkg-config --libs tickforge) -Wl,-rpath,"$libdir" -lpthread
"$tmp/embed_pc" >"$tmp/pc.out"
tail -n 1 "$tmp/pc.out"
grep -q '^embed: OK ' "$tmp/pc.out"

echo "== pkg-config --static: '$(pkg-config --static --libs tickforge)'"
# Exactly as docs/c-api.md says: the static library, though the shared one is installed beside it.
# shellcheck disable=SC2046
"$cc" -std=c99 -O2 $(pkg-config --cflags tickforge) "$src/examples/c/embed.c" -o "$tmp/embed_static" \
  $(pkg-config --static --libs tickforge)
if ldd "$tmp/embed_static" | grep -q libtickforge; then
  echo "the static build still loads libtickforge.so"
  exit 1
fi
"$tmp/embed_static" >"$tmp/static.out"
tail -n 1 "$tmp/static.out"
grep -q '^embed: OK ' "$tmp/static.out"

echo "== find_package(tickforge)"
cmake -S "$src/examples/c" -B "$tmp/fp" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release >"$tmp/fp.log"
cmake --build "$tmp/fp" >>"$tmp/fp.log"
"$tmp/fp/embed" >"$tmp/fp.out"
tail -n 1 "$tmp/fp.out"
grep -q '^embed: OK ' "$tmp/fp.out"
echo "install test passed"
