#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs the Debian packages that `make deb` built into this system and
# uses them as a C developer would, outside the source tree: examples built
# with `cc $(pkg-config --cflags --libs weft)` alone (no -I, -L or run path
# by hand, no LD_LIBRARY_PATH), the same with CMake's find_package, the MPI
# example with weft-mpi.pc under mpirun, and the man pages from weft-doc.
# It changes the system (apt-get install, as root): for a fresh machine,
# `./run deb-check` (make deb-check), not for the ordinary test run.
# Usage: tests/packaging/check-debs.sh DEB_DIR
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
debs=$(cd "$1" && pwd)
examples=$root/examples
ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
unset LD_LIBRARY_PATH PKG_CONFIG_PATH CMAKE_PREFIX_PATH CPATH LIBRARY_PATH || true

fail() {
    echo "deb-check: $*" >&2
    exit 1
}
step() {
    echo "deb-check: $*"
}

sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
step "apt-get install $(cd "$debs" && echo *.deb)"
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    "$debs"/*.deb >/dev/null
for p in libweft0 libweft-dev libweft-mpi0 libweft-mpi-dev weft-doc; do
    dpkg-query -W -f='${Status}' "$p" | grep -q 'install ok installed' ||
        fail "$p is not installed"
done

# libweft0 needs no MPI; libweft-mpi0 does.
lib=/usr/lib/$ma/libweft.so.0
[ -e "$lib" ] || fail "no $lib"
if dpkg-query -W -f='${Depends}' libweft0 | grep -qi mpi || ldd "$lib" | grep -qi mpi; then
    fail "libweft0 depends on MPI: $(dpkg-query -W -f='${Depends}' libweft0)"
fi
ldd "/usr/lib/$ma/libweft_mpi.so.0" | grep -q 'libmpi\.so' ||
    fail "libweft_mpi.so.0 does not load MPI"

# weft.pc for a system libdir: no run path, no -L or -I beyond the system's.
# shellcheck disable=SC2046
libs=$(echo $(pkg-config --libs weft)) # pkgconf ends it with a blank
[ "$libs" = "-lweft" ] || fail "pkg-config --libs weft says '$libs', not -lweft"
case $(pkg-config --cflags --libs weft-mpi) in
    *rpath*) fail "weft-mpi.pc carries a run path: $(pkg-config --libs weft-mpi)" ;;
esac

# A program that must load libweft.so.0 from the system's libdir, by the
# dynamic linker's own search (no RPATH or RUNPATH in it).
check_binary() {
    exe=$1
    if readelf -d "$exe" | grep -Eq 'RPATH|RUNPATH'; then
        fail "$exe has a run path: $(readelf -d "$exe" | grep -E 'RPATH|RUNPATH')"
    fi
    ldd "$exe" | grep -Eq "libweft\.so\.0 => (/usr)?/lib/$ma/libweft\.so\.0" ||
        fail "$exe does not load the packaged libweft: $(ldd "$exe")"
}

# The exact output of two examples (as tests/examples checks them).
printf 'Squared value: %s\n' 1 4 9 16 25 >futures_square.expected
echo 'Sum of the squares, as completed: 55' >>futures_square.expected
printf 'Consumed %s\n' 0 1 2 3 4 >queue_basic.expected

step "pkg-config: cc EXAMPLE.c \$(pkg-config --cflags --libs weft)"
for ex in futures_square queue_basic; do
    cp "$examples/$ex.c" .
    # shellcheck disable=SC2046
    cc -Wall -Werror "$ex.c" -o "$ex" $(pkg-config --cflags --libs weft)
    check_binary "./$ex"
    "./$ex" >"$ex.out"
    diff -u "$ex.expected" "$ex.out" || fail "$ex printed something else"
    step "  $ex: ran, output as expected"
done

step "CMake: find_package(weft 0.1) with weft::weft, and weft::mpi"
mkdir app
cp "$examples/futures_square.c" "$examples/mpi_cpu_bound.c" app/
cat >app/CMakeLists.txt <<'CM'
cmake_minimum_required(VERSION 3.16)
project(app C)
find_package(weft 0.1 REQUIRED COMPONENTS mpi)
add_executable(futures_square futures_square.c)
target_link_libraries(futures_square PRIVATE weft::weft)
add_executable(futures_square_static futures_square.c)
target_link_libraries(futures_square_static PRIVATE weft::weft_static)
add_executable(mpi_cpu_bound mpi_cpu_bound.c)
target_link_libraries(mpi_cpu_bound PRIVATE weft::mpi)
CM
cmake -S app -B app/build >app.log 2>&1 || { cat app.log; fail "cmake could not configure"; }
cmake --build app/build >>app.log 2>&1 || { cat app.log; fail "cmake could not build"; }
check_binary app/build/futures_square
app/build/futures_square >cmake.out
diff -u futures_square.expected cmake.out || fail "the CMake-built futures_square printed something else"
step "  futures_square (weft::weft): ran, output as expected"
if ldd app/build/futures_square_static | grep -q libweft; then
    fail "futures_square_static (weft::weft_static) loads libweft.so"
fi
app/build/futures_square_static >cmake-static.out
diff -u futures_square.expected cmake-static.out || fail "futures_square_static printed something else"
step "  futures_square_static (weft::weft_static): ran, output as expected"

# The MPI example with weft-mpi.pc, on 3 ranks (the root and 2 workers).
mpi_check() {
    exe=$1
    out=$2
    mpirun --allow-run-as-root --oversubscribe --mca btl self,vader -n 3 "$exe" >"$out" 2>&1 ||
        { cat "$out"; fail "mpirun $exe failed"; }
    [ "$(grep -c '^Task ' "$out")" -eq 4 ] &&
        grep -q '^Task 1000000: result = 333332833333500000$' "$out" ||
        { cat "$out"; fail "$exe printed something else"; }
}
step "pkg-config: cc mpi_cpu_bound.c \$(pkg-config --cflags --libs weft-mpi), mpirun -n 3"
cp "$examples/mpi_cpu_bound.c" .
# shellcheck disable=SC2046
cc -Wall -Werror mpi_cpu_bound.c -o mpi_cpu_bound $(pkg-config --cflags --libs weft-mpi)
check_binary ./mpi_cpu_bound
mpi_check ./mpi_cpu_bound mpi.out
step "  mpi_cpu_bound: ran on 3 ranks, output as expected"
mpi_check app/build/mpi_cpu_bound cmake-mpi.out
step "  mpi_cpu_bound (weft::mpi, CMake): ran on 3 ranks, output as expected"

step "man pages (weft-doc)"
page=$(man -w weft_executor_submit) || fail "man -w weft_executor_submit finds no page"
case $page in
    /usr/share/man/man3/*) ;;
    *) fail "man -w weft_executor_submit: $page, not weft-doc's" ;;
esac
dpkg -S "$page" | grep -q '^weft-doc:' || fail "$page is not weft-doc's"
man 3 weft_executor_submit 2>/dev/null | grep -q weft_executor_submit ||
    fail "man 3 weft_executor_submit shows no such page"
step "  man -w weft_executor_submit: $page"
# No page of weft-doc's under a field's bare name: man looks in section 3
# before 2, so it would hide the system call's page.
for name in close wait shutdown; do
    if dpkg -L weft-doc | grep -q "/man3/$name\.3"; then
        fail "weft-doc has a page $name.3, which hides the system's $name"
    fi
done
[ -f /usr/share/doc/weft-doc/html/index.html ] || fail "no HTML reference in weft-doc"

step "all checks passed"
