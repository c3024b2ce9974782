#!/usr/bin/env bash
# Instructions and cachegrind-simulated L1d misses per op of one ladder variant (deterministic):
# (count of a process timing 9 x 3M cycles - count of one timing 9 x 1M cycles) / (9 x 2M).
#   bench/experiments/2026-11-21-ladder/cachesim.sh VARIANT
set -euo pipefail
cd "$(dirname "$0")"
v=${1:?variant}
count() {
  valgrind --tool=cachegrind --cache-sim=yes --cachegrind-out-file=/dev/null --smc-check=all-non-file \
    node --single-threaded --import tsx ladder.mjs "$v" "$1" 2>&1 |
    grep -E "I *refs|D1  misses" | sed 's/,//g' | awk '{print $4}' | tr '\n' ' '
}
read -r ia da <<<"$(count 1000000)"
read -r ib db <<<"$(count 3000000)"
echo "$v: $(( (ib - ia) / 18000000 )) instructions, $(awk "BEGIN { printf \"%.2f\", ($db - $da) / 18000000 }") L1d misses per op"
