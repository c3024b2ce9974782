#!/usr/bin/env bash
# Instructions and simulated L1-data misses per op of workload A for one peer, by cachegrind
# (deterministic, unlike timings on this VM; no hardware counters here):
#   bench/synthetic/cachesim.sh PEER [WS] [SIZES]    e.g.  bench/synthetic/cachesim.sh hakmem 8192 rand2
# = (count with 3M cycles - count with 1M cycles) / 2M, both after the same warm-up (bench/synthetic/icount.ts).
# cachegrind models the host's caches (L1d 32 KiB 8-way here); a miss it counts may still be cheap on
# the real CPU (prefetchers, out-of-order), so check a change's effect on time with a benchmark.
# Needs valgrind (Debian package valgrind). Takes a few minutes.
set -euo pipefail
cd "$(dirname "$0")/../.."
peer=${1:?peer}; ws=${2:-256}; sizes=${3:-rand}
count() {
  valgrind --tool=cachegrind --cache-sim=yes --cachegrind-out-file=/dev/null --smc-check=all-non-file \
    node --single-threaded --import tsx bench/synthetic/icount.ts "$peer" "$1" "$ws" "$sizes" 2>&1 |
    grep -E "I *refs|D1  misses" | sed 's/,//g' | awk '{print $4}' | tr '\n' ' '
}
read -r ia da <<<"$(count 1000000)"
read -r ib db <<<"$(count 3000000)"
echo "$peer ws=$ws sizes=$sizes: $(( (ib - ia) / 2000000 )) instructions, $(awk "BEGIN { printf \"%.2f\", ($db - $da) / 2000000 }") L1d misses per op"
