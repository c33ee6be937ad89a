#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# demo/quiet-build.sh LOG COMMAND...
#
# Runs the build COMMAND with all its output in LOG, and shows one line
# instead: "building weft ..." (with CMake's percentage, on a terminal),
# then how long it took. When the build fails, says so, shows its errors
# and names LOG for the rest. `make demo` builds this way, so that the
# demo's output is the demo's.
set -uo pipefail
log=$1
shift
mkdir -p "$(dirname "$log")"
start=$(date +%s)
"$@" >"$log" 2>&1 &
pid=$!
# On a terminal the line shows CMake's progress, rewritten in place.
cr=
if [ -t 1 ]; then
    cr='\r'
    while kill -0 "$pid" 2>/dev/null; do
        pct=$(grep -o '^\[ *[0-9]*%\]' "$log" 2>/dev/null | tail -n 1 | tr -d '[] ')
        printf '\rbuilding weft ... %s ' "$pct"
        sleep 1
    done
else
    printf 'building weft ...'
fi
wait "$pid"
rc=$?
secs=$(( $(date +%s) - start ))
if [ "$rc" -ne 0 ]; then
    printf "${cr:-\n}building weft ... failed after %d s (exit %d). Its errors:\n" "$secs" "$rc"
    grep -E -i -m 20 'error|undefined reference' "$log" | sed 's/^/  /'
    printf 'The full build log: %s\n' "$log"
    exit "$rc"
fi
if [ -n "$cr" ]; then
    printf '\rbuilding weft ... done in %d s (the log: %s)\n' "$secs" "$log"
else
    printf ' done in %d s (the log: %s)\n' "$secs" "$log"
fi
