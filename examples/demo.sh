#!/bin/sh
# The seeds' examples (`./run examples`): runs the programs listed in
# examples/demo.list, in order, each under a heading that says which Python
# it mirrors. (The demo proper, `./run demo`, is weft-demo: demo/.)
# Usage: examples/demo.sh BUILD_EXAMPLES_DIR
set -eu
bin=$1
list=$(dirname "$0")/demo.list
count=0
while IFS='|' read -r name title; do
    case $name in ''|'#'*) continue ;; esac
    printf '\n=== %s (examples/%s.c) ===\n' "$title" "$name"
    "$bin/$name"
    count=$((count + 1))
done <"$list"
printf '\n=== %d examples ran ===\n' "$count"
