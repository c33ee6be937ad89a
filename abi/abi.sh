#!/bin/sh
# SPDX-License-Identifier: MIT
# abi.sh check|baseline BUILD_DIR [ABI_DIR [HEADERS_DIR]]
#
# The ABI of the shared libraries in BUILD_DIR (built with debug info, -g)
# against the last release's, as README.md's "Versions and compatibility"
# states it. ABI_DIR (default: this folder) holds the release's ABI, one
# description per library made by abidw (libweft.so.0.abi, and
# libweft_mpi.so.0.abi where MPI was found), and `version`, the release's
# version. Only what HEADERS_DIR (default: include/weft) defines counts:
# the types of src/ and the functions it does not declare are left out.
#
#   baseline  records the ABI of every lib*.so in BUILD_DIR in ABI_DIR, and
#             the version they carry (their file is lib*.so.MAJOR.MINOR.PATCH):
#             a release step (`make abi-baseline`).
#   check     compares each library that has a description in ABI_DIR with
#             abidiff; the rules, by the version built (its file name) against
#             the baseline's:
#             - the soname is lib<name>.so.MAJOR (libweft.so.0 through 0.x);
#             - an incompatible change (a function or type removed or changed,
#               a struct grown, a parameter or an enum value changed) passes
#               only in a new MAJOR (whose soname differs) or, while MAJOR is
#               0, a new 0.MINOR; otherwise it fails, with abidiff's report;
#             - additions (functions, variables, enumerators) are printed and
#               pass, but not in a PATCH release, which changes no interface.
#             abidiff compares the types that the functions' parameters and
#             results reach: macros, and enums that no function or struct
#             names (weft's error codes, passed as int), are not compared.
#
# Exit status: 0 compatible; 1 incompatible (or against the rules above);
# 2 the check could not be made (a tool failed, no debug info, no library);
# 77 abidiff is not installed (Debian's abigail-tools; `./run abi` installs
# it), which ctest reports as skipped.
set -eu

mode=${1:-}
build=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
abidir=${3:-$here}
headers=${4:-$here/../include/weft}

die() { echo "abi: $*" >&2; exit 2; }
case $mode in
    check|baseline) [ -n "$build" ] ;;
    *) false ;;
esac || die "usage: abi.sh check|baseline BUILD_DIR [ABI_DIR [HEADERS_DIR]]"
for tool in abidw abidiff; do
    command -v $tool >/dev/null 2>&1 || {
        echo "abi: $tool not found: install Debian's abigail-tools (./run abi does)"
        exit 77
    }
done
[ -d "$headers" ] || die "no headers folder $headers"
headers=$(cd "$headers" && pwd)

# The ABI of a library, as abidw writes it: the types the public headers
# define and the functions they declare (--drop-private-types: the rest is
# left out as the library is read, where the headers' paths are this
# machine's). The baseline also leaves out every source location, so that
# it is the same wherever it is made; the build's keeps them, for the
# report. Both are compared as written, with no --headers-dir given to
# abidiff: abidiff takes a type whose location in the baseline is not under
# the headers folder it is given for a private one and filters out its
# changes, so that against a baseline made elsewhere (or without locations)
# a struct grown would pass. abidiff 2.2 missed that growth between two
# descriptions made with --short-locs too: it is not used.
ABIDW_OPTS="--headers-dir $headers --drop-private-types --drop-undefined-syms
            --no-corpus-path --no-comp-dir-path --no-elf-needed
            --type-id-style hash"

soname_of() {
    readelf -d "$1" | sed -n 's/.*Library soname: \[\(.*\)\].*/\1/p'
}

# The version a built library carries: libweft.so -> libweft.so.0.1.0.
version_of() {
    real=$(basename "$(readlink -f "$1")")
    v=${real#"$(basename "$1")."}
    echo "$v" | grep -Eqx '[0-9]+\.[0-9]+\.[0-9]+' ||
        die "$1: its file $real does not end in MAJOR.MINOR.PATCH"
    echo "$v"
}

# abidiff needs the DWARF of the library built: without it only symbols
# would be compared, and a struct grown would go unseen.
need_debug_info() {
    readelf -S "$1" | grep -q '\.debug_info' ||
        die "$1 has no debug info: build it with -g (RelWithDebInfo, as \`make abi\` does)"
}

if [ "$mode" = baseline ]; then
    found=0
    version=
    for lib in "$build"/lib*.so; do
        [ -e "$lib" ] || continue
        found=1
        need_debug_info "$lib"
        v=$(version_of "$lib")
        [ -z "$version" ] || [ "$v" = "$version" ] ||
            die "the libraries in $build carry versions $version and $v"
        version=$v
    done
    [ $found = 1 ] || die "no lib*.so in $build: build the shared libraries first"
    mkdir -p "$abidir"
    rm -f "$abidir"/lib*.so.*.abi
    for lib in "$build"/lib*.so; do
        out="$abidir/$(soname_of "$lib").abi"
        abidw $ABIDW_OPTS --no-show-locs --out-file "$out" "$lib" || die "abidw failed on $lib"
        echo "abi: $(basename "$out"): $(grep -c '<elf-symbol ' "$out") symbols of $lib"
    done
    echo "$version" > "$abidir/version"
    echo "abi: baseline of $version in $abidir"
    exit 0
fi

[ -f "$abidir/version" ] || die "no baseline in $abidir (its version file is missing)"
base_version=$(cat "$abidir/version")
echo "$base_version" | grep -Eqx '[0-9]+\.[0-9]+\.[0-9]+' ||
    die "$abidir/version says \"$base_version\", not MAJOR.MINOR.PATCH"
base_major=${base_version%%.*}
rest=${base_version#*.}
base_minor=${rest%%.*}
base_patch=${rest#*.}

status=0
checked=0
for base in "$abidir"/lib*.so.*.abi; do
    [ -e "$base" ] || die "no ABI description in $abidir"
    base_soname=$(basename "$base" .abi)
    name=${base_soname%.so.*}
    lib="$build/$name.so"
    if [ ! -e "$lib" ]; then
        # libweft_mpi is built only where MPI is found.
        echo "abi: $name: not built in $build, not checked"
        continue
    fi
    need_debug_info "$lib"
    version=$(version_of "$lib")
    major=${version%%.*}
    rest=${version#*.}
    minor=${rest%%.*}
    patch=${rest#*.}
    soname=$(soname_of "$lib")
    checked=$((checked + 1))
    what="$name $version against $base_version"

    if [ "$soname" != "$name.so.$major" ]; then
        echo "abi: $what: FAILED: its soname is $soname; version $version's is $name.so.$major"
        status=1
        continue
    fi
    if [ "$major" -lt "$base_major" ] ||
       { [ "$major" -eq "$base_major" ] && [ "$minor" -lt "$base_minor" ]; } ||
       { [ "$major" -eq "$base_major" ] && [ "$minor" -eq "$base_minor" ] &&
         [ "$patch" -lt "$base_patch" ]; }; then
        echo "abi: $what: FAILED: the version built is older than the baseline's"
        status=1
        continue
    fi

    # Two comparisons: the whole report, then one without the additions,
    # whose status tells whether anything else changed. abidiff's status is
    # a bitmask: 1 error, 2 usage error, 4 the ABIs differ, 8 incompatibly
    # (set for a removed symbol, or a changed soname, only: a struct grown or
    # a parameter changed is 4 alone, which is why the additions are taken
    # out rather than bit 8 read).
    report=$(mktemp)
    built=$(mktemp)
    abidw $ABIDW_OPTS --out-file "$built" "$lib" ||
        { rm -f "$report" "$built"; die "abidw failed on $lib"; }
    set +e
    abidiff "$base" "$built" >"$report" 2>&1
    all=$?
    abidiff --no-added-syms "$base" "$built" >/dev/null 2>&1
    changed=$?
    set -e
    rm -f "$built"
    if [ $((all & 3)) -ne 0 ] || [ $((changed & 3)) -ne 0 ]; then
        cat "$report"
        rm -f "$report"
        die "$what: abidiff failed (status $all, $changed): the check was not made"
    fi

    if [ "$changed" -ne 0 ]; then
        cat "$report"
        if [ "$major" -gt "$base_major" ]; then
            echo "abi: $what: incompatible changes, in a new MAJOR version ($soname): allowed"
        elif [ "$major" -eq 0 ] && [ "$minor" -gt "$base_minor" ]; then
            echo "abi: $what: incompatible changes, in a new 0.MINOR version: allowed"
            echo "     while MAJOR is 0 (the soname stays $soname); CHANGELOG.md must say so"
        else
            echo "abi: $what: FAILED: incompatible changes (above)"
            if [ "$major" -eq 0 ]; then
                echo "     the ABI of $base_version changes only in a new 0.MINOR release"
            else
                echo "     the ABI of $base_version changes only in a new MAJOR release"
            fi
            echo "     (README.md, Versions and compatibility): keep the interface,"
            echo "     add to it instead, or raise the version in CMakeLists.txt and"
            echo "     include/weft/base.h and say so in CHANGELOG.md"
            status=1
        fi
    elif [ "$all" -ne 0 ]; then
        cat "$report"
        if [ "$major" -eq "$base_major" ] && [ "$minor" -eq "$base_minor" ] &&
           [ "$patch" -gt "$base_patch" ]; then
            echo "abi: $what: FAILED: additions (above) in a PATCH release, which"
            echo "     changes no interface: they need a new MINOR version"
            status=1
        else
            echo "abi: $what: compatible: additions only (above), for a MINOR release"
        fi
    else
        echo "abi: $what: the same ABI"
    fi
    rm -f "$report"
done
[ $checked -gt 0 ] || die "no library of the baseline is built in $build"
exit $status
