#!/bin/sh
# SPDX-License-Identifier: MIT
# The reference is complete: doxygen, run with the project's Doxyfile into a
# scratch folder, warns about nothing (an undocumented public function,
# type, field or macro, a broken doc command, a guide's missing example);
# each layer's man page opens with its header's first paragraph and then its
# defaults for the layer, and a function's man page leads to its layer's.
# Usage: check-docs.sh DOXYGEN DOXYFILE SOURCE_DIR
set -eu
doxygen=$1
doxyfile=$2
src=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

{ cat "$doxyfile"; echo "OUTPUT_DIRECTORY = $work"; } |
    "$doxygen" - >"$work/out.txt" 2>"$work/warnings.txt" || {
    cat "$work/out.txt" "$work/warnings.txt"
    echo "docs: doxygen failed"
    exit 1
}
if [ -s "$work/warnings.txt" ]; then
    cat "$work/warnings.txt"
    echo "docs: $(wc -l <"$work/warnings.txt") warnings: every public name needs its /** comment"
    exit 1
fi

man3=$work/man/man3
fail=0
for h in "$src"/include/weft/*.h; do
    name=$(basename "$h")
    page=$man3/$name.3
    if [ ! -f "$page" ]; then
        echo "docs: no man page for $name"
        fail=1
        continue
    fi
    # The page opens with the header's first comment: its first paragraph
    # (its first words), then the defaults for the layer. The first line
    # is the licence's SPDX tag: the comment is the first that opens /**.
    first=$(sed -n '/^\/\*\*/{s|^/\*\* *||p;q}' "$h" | cut -d' ' -f1-3)
    desc=$(sed -n '/^\.SH "Detailed Description"/,/^\.SH/p' "$page" |
           awk '/^\.PP/ { if (++pp > 2) exit } { print }' |
           tr '\n' ' ' | sed 's/\\f[A-Z]//g; s/\\&//g; s/\\-/-/g; s/\\(aq/'"'"'/g')
    case $desc in
    *"$first"*) ;;
    *) echo "docs: $name.3 does not show its header's comment ($first)"; fail=1 ;;
    esac
    if grep -q "Defaults for this layer" "$h"; then
        case $desc in
        *"Defaults for this layer"*) ;;
        *) echo "docs: $name.3 does not open with its defaults for the layer"; fail=1 ;;
        esac
    fi
done
# A function's page is a link to its layer's.
grep -qx '.so man3/executor.h.3' "$man3/weft_executor_submit.3" || {
    echo "docs: man weft_executor_submit does not lead to executor.h"
    fail=1
}
[ $fail -eq 0 ] || exit 1
echo "docs: $(ls "$man3" | wc -l) man pages, no warnings"
