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
# The mpi layer, where it was built: libweft_mpi through weft-mpi.pc and
# through find_package(weft COMPONENTS mpi) (weft::mpi). The program only
# registers tasks, which needs no MPI job, so it runs without mpirun.
if test -f "$libdir/weft-mpi.pc"; then
    cat >"$work/reg.c" <<'C'
#include <stdio.h>
#include <mpi.h>
#include <weft/mpi.h>
static int sq(const weft_bytes_t *arg, weft_bytes_t *result) { return 0; }
static int other(const weft_bytes_t *arg, weft_bytes_t *result) { return 1; }
int main(void)
{
    if (weft_mpi_register("sq", sq) || weft_mpi_register("sq", sq) ||
        weft_mpi_register("sq", other) != WEFT_EEXIST)
        return 1;
    printf("weft-mpi: %s\n", weft_errname(WEFT_EEXIST));
    return 0;
}
C
    "$cc" "$work/reg.c" -o "$work/reg-pc" $(pkg-config --cflags --libs weft-mpi)
    LD_LIBRARY_PATH=$(dirname "$libdir") "$work/reg-pc" | grep -q "WEFT_EEXIST"
    mkdir "$work/mpiapp"
    cp "$work/reg.c" "$work/mpiapp/"
    cat >"$work/mpiapp/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.16)
project(reg C)
find_package(weft 0.1 REQUIRED COMPONENTS mpi)
add_executable(reg reg.c)
target_link_libraries(reg weft::mpi)
CM
    cmake -S "$work/mpiapp" -B "$work/mpiapp/build" -DCMAKE_C_COMPILER="$cc" \
        -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
    cmake --build "$work/mpiapp/build" >/dev/null
    "$work/mpiapp/build/reg" | grep -q "WEFT_EEXIST"
    echo "install: weft-mpi.pc and weft::mpi build and run"
fi

# The demo, and the Python programs it runs beside weft.
"$work/prefix/bin/weft-demo" --help | grep -q -- "--scale"
test -f "$work/prefix/share/weft/python/primes.py"

echo "install: pkg-config (shared, static) and find_package all build and run"
