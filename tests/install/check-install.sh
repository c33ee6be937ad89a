#!/bin/sh
# SPDX-License-Identifier: MIT
# Install weft from a build tree into a scratch prefix, then build a tiny
# program against the installed copy twice: with pkg-config and with CMake's
# find_package; and see that weft-demo is installed with what it needs, and
# the man pages where man finds them (MAN is "man" when the build made them).
# Usage: check-install.sh BUILD_DIR C_COMPILER [man|noman]
set -eu
build=$1
cc=$2
man=${3:-noman}
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
    printf("weft %s (headers %s): %s\n", weft_version(), WEFT_VERSION_STRING,
           weft_strerror(WEFT_ETIMEDOUT));
    return 0;
}
C

# pkg-config, shared library: the program starts from this non-system
# prefix as built, without LD_LIBRARY_PATH (weft.pc's Libs carry the run
# path), and loads the prefix's libweft, which gives its version.
libdir=$(ls -d "$work"/prefix/lib*/pkgconfig | head -n 1)
export PKG_CONFIG_PATH=$libdir
"$cc" "$work/hello.c" -o "$work/hello-pc" $(pkg-config --cflags --libs weft)
env -u LD_LIBRARY_PATH "$work/hello-pc" >"$work/hello-pc.out"
grep -q "timed out" "$work/hello-pc.out"
env -u LD_LIBRARY_PATH ldd "$work/hello-pc" | grep -q "libweft.so.* => $(dirname "$libdir")/" || {
    echo "install: hello-pc does not load libweft from the prefix:"
    ldd "$work/hello-pc"
    exit 1
}
version=$(pkg-config --modversion weft)
grep -q "^weft $version (headers $version)" "$work/hello-pc.out" || {
    echo "install: weft.pc says $version, the program: $(cat "$work/hello-pc.out")"
    exit 1
}

# pkg-config, static library.
"$cc" -static "$work/hello.c" -o "$work/hello-static" \
    $(pkg-config --cflags --libs --static weft) 2>/dev/null ||
"$cc" "$work/hello.c" -o "$work/hello-static" $(pkg-config --cflags weft) \
    "$(dirname "$libdir")/libweft.a" -pthread -ldl -lm
"$work/hello-static" | grep -q "timed out"

# libweft.a into an otherwise dynamic program, as README.md shows: the
# program needs no libweft.so.
"$cc" "$work/hello.c" -o "$work/hello-a" $(pkg-config --cflags weft) \
    -L"$(pkg-config --variable=libdir weft)" -Wl,-Bstatic -lweft -Wl,-Bdynamic \
    $(pkg-config --libs --static weft | sed 's/-lweft//')
"$work/hello-a" | grep -q "timed out"
if ldd "$work/hello-a" | grep -q libweft; then
    echo "install: hello-a still loads libweft.so"
    exit 1
fi

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
# The CMake package's version policy (README.md): before 1.0 a minor
# release may break the interface, so 0.MINOR takes only requests for
# 0.MINOR; from 1.0 on, requests for an earlier minor of the same major.
mkdir "$work/older"
major=${version%%.*}
minor=${version#*.}
minor=${minor%%.*}
if [ "$major" -eq 0 ] && [ "$minor" -gt 0 ]; then
    cat >"$work/older/CMakeLists.txt" <<CM
cmake_minimum_required(VERSION 3.16)
project(older C)
find_package(weft 0.$((minor - 1)) QUIET)
if(weft_FOUND)
    message(FATAL_ERROR "weft $version accepted for 0.$((minor - 1))")
endif()
CM
    cmake -S "$work/older" -B "$work/older/build" -DCMAKE_C_COMPILER="$cc" \
        -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
fi

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
# Its MPI column's program, installed beside it where the mpi layer is built.
if [ -x "$build/demo/weft-demo-mpi" ]; then
    test -x "$work/prefix/bin/weft-demo-mpi" || {
        echo "install: weft-demo-mpi is built but not installed beside weft-demo"
        exit 1
    }
fi

# The man pages: one per layer, and one per public name leading to it, where
# man finds them (PREFIX/share/man/man3).
if [ "$man" = man ]; then
    mandir=$work/prefix/share/man
    for page in executor.h weft_executor_submit weft_queue_get WEFT_FOREVER; do
        test -f "$mandir/man3/$page.3" || {
            echo "install: no man page $mandir/man3/$page.3"
            exit 1
        }
    done
    # No page under a field's bare name (close, wait, shutdown): man looks
    # in section 3 before 2, so such a page would hide the system's.
    for page in close wait shutdown; do
        if test -e "$mandir/man3/$page.3"; then
            echo "install: $mandir/man3/$page.3 would hide the system's $page"
            exit 1
        fi
    done
    if command -v man >/dev/null 2>&1; then
        man -M "$mandir" -w weft_executor_submit | grep -q "^$mandir/man3/"
        MANPAGER=cat man -M "$mandir" weft_executor_submit 2>/dev/null |
            grep -q "weft_executor_submit"
    fi
    echo "install: man pages in $mandir/man3"
fi

echo "install: pkg-config (shared, static) and find_package all build and run"
