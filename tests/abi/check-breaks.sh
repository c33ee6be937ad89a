#!/bin/sh
# SPDX-License-Identifier: MIT
# check-breaks.sh CC SOURCE_DIR OUT_DIR [WEFT_BUILD_DIR]
#
# abi/abi.sh sees a break: a small library, libt, is built by CC at 0.1.0
# and its ABI recorded as the baseline (abi.sh baseline), then built again
# changed, and abi.sh check must answer as README.md's versions policy says:
# the same ABI and additions pass (additions not in a PATCH release); a
# struct grown, a function removed, a parameter or an enum value changed
# fail at the same 0.MINOR and pass at a new one; a soname that is not
# lib<name>.so.MAJOR fails; a baseline abidiff cannot read is a tool error
# (status 2), not a pass. Given WEFT_BUILD_DIR, weft's own libweft.so there
# is also checked against copies of the baseline in abi/ changed on purpose:
# one whose weft_process_pool_opts was smaller (the build's grew), one that
# named weft_version otherwise (the build's removed a function), both
# incompatible, and one without weft_version (the build's added it).
# Exits 77 (skipped) where abidiff is not installed.
set -eu

cc=$1
src=$2
mkdir -p "$3"
out=$(mktemp -d "$3/run.XXXXXX")
trap 'rm -rf "$out"' EXIT
abi="$src/abi/abi.sh"

command -v abidiff >/dev/null 2>&1 || {
    echo "abidiff not installed (Debian's abigail-tools; ./run test installs it)"
    exit 77
}

# The library at 0.1.0.
mkdir -p "$out/orig"
cat >"$out/orig/t.h" <<'EOF'
#include <stddef.h>
typedef struct t_opts { int workers; double timeout; } t_opts_t;
enum t_mode { T_FAST = 1, T_SAFE = 2 };
int t_start(const t_opts_t *opts);
int t_stop(int handle);
int t_mode(enum t_mode m);
size_t t_count(void);
EOF
cat >"$out/orig/t.c" <<'EOF'
#include "t.h"
int t_start(const t_opts_t *opts) { return opts->workers; }
int t_stop(int handle) { return handle; }
int t_mode(enum t_mode m) { return (int)m; }
size_t t_count(void) { return 0; }
EOF

# build NAME VERSION SONAME_MAJOR [SED_H [SED_C]]: the library changed by the
# sed scripts, in $out/NAME, as libt.so.VERSION with soname libt.so.MAJOR.
build() {
    d="$out/$1"
    mkdir -p "$d/inc"
    sed -e "${4:-}" "$out/orig/t.h" >"$d/inc/t.h"
    sed -e "${5:-}" "$out/orig/t.c" >"$d/t.c"
    $cc -g -O2 -fPIC -shared -I"$d/inc" -Wl,-soname,libt.so.$3 \
        -o "$d/libt.so.$2" "$d/t.c"
    ln -sf "libt.so.$2" "$d/libt.so"
}

failed=0
# expect NAME STATUS WORDS: abi.sh check of build NAME against the baseline
# exits STATUS and says WORDS.
expect() {
    set +e
    "$abi" check "$out/$1" "$out/baseline" "$out/$1/inc" >"$out/$1.log" 2>&1
    got=$?
    set -e
    if [ "$got" -ne "$2" ] || ! grep -q "$3" "$out/$1.log"; then
        echo "FAIL: $1: abi.sh check exited $got (wanted $2), saying:"
        sed 's/^/    /' "$out/$1.log"
        echo "    (wanted: $3)"
        failed=1
    else
        echo "ok: $1: $2, \"$3\""
    fi
}

build base 0.1.0 0
"$abi" baseline "$out/base" "$out/baseline" "$out/base/inc" >/dev/null
[ "$(cat "$out/baseline/version")" = 0.1.0 ] && [ -s "$out/baseline/libt.so.0.abi" ] || {
    echo "FAIL: abi.sh baseline did not record libt 0.1.0"
    exit 1
}

grow='s/double timeout;/double timeout; int retries;/'
add_h='$a int t_pause(int handle);'
add_c='$a int t_pause(int handle) { return handle; }'

build same 0.1.0 0
expect same 0 "the same ABI"
build added 0.1.0 0 "$add_h" "$add_c"
expect added 0 "compatible: additions only"
build added_enum 0.1.0 0 's/T_SAFE = 2/T_SAFE = 2, T_LAZY = 3/'
expect added_enum 0 "the same ABI"
build grown 0.1.0 0 "$grow"
expect grown 1 "FAILED: incompatible changes"
build removed 0.1.0 0 '/t_stop/d' '/t_stop/d'
expect removed 1 "FAILED: incompatible changes"
build param 0.1.0 0 's/t_stop(int handle)/t_stop(long handle)/' 's/t_stop(int handle)/t_stop(long handle)/'
expect param 1 "FAILED: incompatible changes"
build enum_value 0.1.0 0 's/T_SAFE = 2/T_SAFE = 4/'
expect enum_value 1 "FAILED: incompatible changes"
build patch_added 0.1.1 0 "$add_h" "$add_c"
expect patch_added 1 "FAILED: additions (above) in a PATCH release"
build patch_grown 0.1.1 0 "$grow"
expect patch_grown 1 "FAILED: incompatible changes"
build minor_grown 0.2.0 0 "$grow"
expect minor_grown 0 "in a new 0.MINOR version: allowed"
build major_soname 1.0.0 0 "$grow"
expect major_soname 1 "FAILED: its soname is libt.so.0"
build major_grown 1.0.0 1 "$grow"
expect major_grown 0 "in a new MAJOR version (libt.so.1): allowed"
build older 0.0.9 0
expect older 1 "older than the baseline"

# A baseline abidiff cannot read: a tool error, not a pass.
cp -r "$out/baseline" "$out/broken"
echo "<abi-corpus" >"$out/broken/libt.so.0.abi"
set +e
"$abi" check "$out/same" "$out/broken" "$out/same/inc" >"$out/broken.log" 2>&1
got=$?
set -e
if [ "$got" -ne 2 ] || ! grep -q "abidiff failed" "$out/broken.log"; then
    echo "FAIL: broken baseline: abi.sh check exited $got (wanted 2), saying:"
    sed 's/^/    /' "$out/broken.log"
    failed=1
else
    echo "ok: broken baseline: 2, \"abidiff failed\""
fi

# weft itself, against copies of its baseline changed on purpose.
weft=${4:-}
if [ -n "$weft" ]; then
    # changed NAME SED: the baseline with libweft.so.0.abi changed by SED.
    changed() {
        mkdir -p "$out/$1"
        cp "$src"/abi/version "$src"/abi/*.abi "$out/$1/"
        sed -e "$2" "$src/abi/libweft.so.0.abi" >"$out/$1/libweft.so.0.abi"
        if cmp -s "$out/$1/libweft.so.0.abi" "$src/abi/libweft.so.0.abi"; then
            echo "FAIL: $1: the change to the baseline did not apply"
            failed=1
        fi
    }
    # expect_weft NAME STATUS WORDS...: abi.sh check of weft's build against
    # the baseline changed as NAME, exits STATUS and says each of WORDS.
    expect_weft() {
        name=$1
        want=$2
        shift 2
        set +e
        "$abi" check "$weft" "$out/$name" >"$out/$name.log" 2>&1
        got=$?
        set -e
        ok=1
        [ "$got" -eq "$want" ] || ok=0
        for w in "$@"; do grep -q "$w" "$out/$name.log" || ok=0; done
        if [ $ok = 0 ]; then
            echo "FAIL: weft, $name: abi.sh check exited $got (wanted $want), saying:"
            sed 's/^/    /' "$out/$name.log"
            echo "    (wanted: $*)"
            failed=1
        else
            echo "ok: weft, $name: $want, \"$*\""
        fi
    }
    changed weft_smaller_opts "s/\(<class-decl name='weft_process_pool_opts' size-in-bits='\)[0-9]*'/\164'/"
    expect_weft weft_smaller_opts 1 "FAILED: incompatible changes" \
        "struct weft_process_pool_opts' changed" "type size changed from 64 to"
    changed weft_renamed "s/'weft_version'/'weft_version_was'/g"
    expect_weft weft_renamed 1 "FAILED: incompatible changes" "1 Removed, 0 Changed, 1 Added"
    changed weft_added "/<elf-symbol name='weft_version' /d; /<function-decl name='weft_version' /,/<\/function-decl>/d"
    expect_weft weft_added 0 "compatible: additions only" "0 Removed, 0 Changed, 1 Added"
fi

exit $failed
