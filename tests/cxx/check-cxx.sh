#!/bin/sh
# SPDX-License-Identifier: MIT
# check-cxx.sh CXX SOURCE_DIR OUT_DIR LIBWEFT [LIBWEFT_MPI [MPI_LINK...]]
#
# Every public header, as C++: for each include/weft/<name>.h (and
# include/weft.h) tests/cxx/use_<name>.cc includes that header alone, uses a
# few of its calls, and is compiled as C++11 with warnings as errors by CXX
# (g++ or clang++), linked against LIBWEFT (libweft.so) and run. -Wshadow is
# among them: a struct tag named as a function is, in C++, a constructor the
# function hides, and g++ warns in the user's program. The whole
# toolkit, weft.h, is also compiled as C++14, C++17 and C++20. A header
# without its use_<name>.cc fails the check, so that a new layer brings one.
# mpi.h is linked and run only when LIBWEFT_MPI is given (weft built with
# MPI); otherwise it is compiled alone. CXXFLAGS from the environment are
# added (the sanitizer of the build).
set -eu

cxx=$1
src=$2
# A folder of its own under $3, so that runs side by side do not meet.
mkdir -p "$3"
out=$(mktemp -d "$3/run.XXXXXX")
trap 'rm -rf "$out"' EXIT
libweft=$4
libmpi=${5:-}
[ $# -ge 5 ] && shift 5 || shift $#
mpi_link="$*"

case $($cxx --version | head -n 1) in
    *clang*) extra="-Wc11-extensions -Wc99-extensions -Wgnu" ;;
    *) extra="" ;;
esac
warn="-Wall -Wextra -Wpedantic -Wshadow -Werror $extra"
flags="-I$src/include -I$src/tests/cxx ${CXXFLAGS:-}"
rpath="-Wl,-rpath,$(dirname "$libweft")"
mkdir -p "$out"

failed=0
fail() {
    echo "FAIL: $*" >&2
    failed=1
}

for h in "$src"/include/weft/*.h "$src"/include/weft.h; do
    name=$(basename "$h" .h)
    tu=$src/tests/cxx/use_$name.cc
    exe=$out/use_$name
    if [ ! -f "$tu" ]; then
        fail "$h has no tests/cxx/use_$name.cc"
        continue
    fi
    libs="$libweft"
    if [ "$name" = mpi ]; then
        if [ -z "$libmpi" ]; then
            # No MPI: the header alone still compiles as C++.
            echo "#include \"weft/mpi.h\"" > "$out/mpi_alone.cc"
            $cxx -std=c++11 $warn $flags -fsyntax-only "$out/mpi_alone.cc" \
                || fail "weft/mpi.h does not compile as C++11 with $cxx"
            continue
        fi
        libs="$libmpi $libweft $mpi_link -Wl,-rpath,$(dirname "$libmpi")"
    fi
    if ! $cxx -std=c++11 $warn $flags -o "$exe" "$tu" $libs $rpath -pthread; then
        fail "$name: use_$name.cc does not compile as C++11 with $cxx"
        continue
    fi
    if ! "$exe"; then
        fail "$name: use_$name (built by $cxx) failed"
        continue
    fi
    echo "ok: $name.h ($cxx, C++11)"
done

for std in c++14 c++17 c++20; do
    $cxx -std=$std $warn $flags -fsyntax-only "$src/tests/cxx/use_weft.cc" \
        && echo "ok: weft.h ($cxx, $std)" \
        || fail "weft.h does not compile as $std with $cxx"
done

exit $failed
