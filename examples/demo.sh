#!/bin/sh
# SPDX-License-Identifier: MIT
# The seeds' examples (`./run examples`): runs the programs listed in
# examples/demo.list, in order, each under a heading that says which Python
# it mirrors; or only those named (`./run examples ONLY="queue_basic
# process_race"`). (The demo proper, `./run demo`, is weft-demo: demo/.)
# Usage: examples/demo.sh BUILD_EXAMPLES_DIR [NAME...]
set -eu
bin=$1
shift
list=$(dirname "$0")/demo.list
count=0
while IFS='|' read -r name title; do
    case $name in ''|'#'*) continue ;; esac
    if [ $# -gt 0 ]; then
        case " $* " in *" $name "*) ;; *) continue ;; esac
    fi
    case $name in
        mpi_*)
            # MPI examples run under mpirun (a root and 4 worker ranks),
            # and only where the mpi layer was built.
            [ -x "$bin/$name" ] || continue
            printf '\n=== %s (examples/%s.c, mpirun -n 5) ===\n' "$title" "$name"
            mpirun --allow-run-as-root --oversubscribe --mca btl self,vader \
                -n 5 "$bin/$name" ;;
        *)
            printf '\n=== %s (examples/%s.c) ===\n' "$title" "$name"
            "$bin/$name" ;;
    esac
    count=$((count + 1))
done <"$list"
if [ "$count" -eq 0 ]; then
    echo "no such example: $* (examples/demo.list names them)" >&2
    exit 2
fi
printf '\n=== %d examples ran ===\n' "$count"
