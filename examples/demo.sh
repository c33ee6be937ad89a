#!/bin/sh
# The demo: runs the seeds' examples listed in examples/demo.list, in order,
# each under a heading that says which Python it mirrors.
# Usage: examples/demo.sh BUILD_EXAMPLES_DIR
set -eu
bin=$1
list=$(dirname "$0")/demo.list
count=0
while IFS='|' read -r name title; do
    case $name in ''|'#'*) continue ;; esac
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
printf '\n=== %d examples ran ===\n' "$count"
