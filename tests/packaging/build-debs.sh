#!/bin/sh
# SPDX-License-Identifier: MIT
# Builds weft's Debian packages (`make deb`, `./run deb`) and checks them
# with lintian. dpkg-buildpackage runs in a copy of the tree, so that the
# source tree stays clean and the packages, which it writes next to the
# tree it builds, land in OUT_DIR: *.deb, the .changes and the .buildinfo.
# Usage: tests/packaging/build-debs.sh OUT_DIR [JOBS]
set -eu
out=$1
jobs=${2:-2}
root=$(cd "$(dirname "$0")/../.." && pwd)
version=$(dpkg-parsechangelog -l "$root/debian/changelog" -S Version)
upstream=${version%-*}

rm -rf "$out"
mkdir -p "$out"
out=$(cd "$out" && pwd)
src=$out/weft-$upstream
mkdir "$src"
# The tree as it is, without build outputs, a package build's leftovers or
# git's own folder.
(cd "$root" && tar -cf - --exclude=./build --exclude=./.git --exclude='./obj-*' \
    --exclude=./Testing --exclude=./debian/.debhelper --exclude=./debian/tmp .) |
    (cd "$src" && tar -xf -)

echo "deb: dpkg-buildpackage in $src (the log: $out/build.log)"
if ! (cd "$src" && dpkg-buildpackage -us -uc -b -j"$jobs") >"$out/build.log" 2>&1; then
    tail -n 40 "$out/build.log"
    echo "deb: the package build failed; the whole log: $out/build.log" >&2
    exit 1
fi
rm -rf "$src"

echo "deb: lintian"
lintian --fail-on error --display-info "$out"/weft_"${version}"_*.changes
echo "deb: the packages, in $out:"
(cd "$out" && ls -1 *.deb)
