#!/bin/sh
# Install weft from a build tree into a scratch prefix, then build a tiny
# program against the installed copy twice: with pkg-config and with CMake's
# find_package; and see that weft-demo is installed with what it needs.
# Usage: check-install.sh BUILD_DIR C_COMPILER
set -eu
build=$1
cc=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null

cat >"$work/hello.c" <<'C'
#include <stdio.h>
#include <weft.h>
int main(void)
{
    weft_lock_t l = WEFT_LOCK_INIT;
    if (weft_lock_acquire(&l, WEFT_FOREVER) || weft_lock_release(&l))
        return 1;
    printf("weft %s: %s\n", weft_version(), weft_strerror(WEFT_ETIMEDOUT));
    return 0;
}
C

# pkg-config, shared library.
libdir=$(ls -d "$work"/prefix/lib*/pkgconfig | head -n 1)
export PKG_CONFIG_PATH=$libdir
"$cc" "$work/hello.c" -o "$work/hello-pc" $(pkg-config --cflags --libs weft)
LD_LIBRARY_PATH=$(dirname "$libdir") "$work/hello-pc" | grep -q "timed out"

# pkg-config, static library.
"$cc" -static "$work/hello.c" -o "$work/hello-static" \
    $(pkg-config --cflags --libs --static weft) 2>/dev/null ||
"$cc" "$work/hello.c" -o "$work/hello-static" $(pkg-config --cflags weft) \
    "$(dirname "$libdir")/libweft.a" -pthread -ldl -lm
"$work/hello-static" | grep -q "timed out"

# CMake package.
mkdir "$work/app"
cp "$work/hello.c" "$work/app/"
cat >"$work/app/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.16)
project(hello C)
find_package(weft 0.1 REQUIRED)
add_executable(hello hello.c)
target_link_libraries(hello weft::weft)
CM
cmake -S "$work/app" -B "$work/app/build" -DCMAKE_C_COMPILER="$cc" \
    -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/app/build" >/dev/null
"$work/app/build/hello" | grep -q "timed out"
# The demo, and the Python programs it runs beside weft.
"$work/prefix/bin/weft-demo" --help | grep -q -- "--scale"
test -f "$work/prefix/share/weft/python/primes.py"

echo "install: pkg-config (shared, static) and find_package all build and run"
