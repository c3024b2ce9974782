#!/usr/bin/env bash
# Instructions per op of workload A for one peer, counted by callgrind (deterministic):
#   bench/synthetic/icount.sh PEER [WS] [SIZES]    e.g.  bench/synthetic/icount.sh hakmem 256 rand
# = (instructions with 3M cycles - instructions with 1M cycles) / 2M, both after the same warm-up.
# Needs valgrind (Debian package valgrind). Takes a few minutes.
set -euo pipefail
cd "$(dirname "$0")/../.."
peer=${1:?peer}; ws=${2:-256}; sizes=${3:-rand}
count() {
  valgrind --tool=callgrind --callgrind-out-file=/dev/null --smc-check=all-non-file --cache-sim=no \
    node --single-threaded --import tsx bench/synthetic/icount.ts "$peer" "$1" "$ws" "$sizes" 2>&1 |
    grep -o 'Collected : [0-9]*' | awk '{print $3}'
}
a=$(count 1000000); b=$(count 3000000)
echo "$peer ws=$ws sizes=$sizes: $(( (b - a) / 2000000 )) instructions per op"
