#!/usr/bin/env bash
# Runs the ladder: ROUNDS rounds; each round runs one process per variant (floor first, then the
# others in the listed order, rotated by one each round) and prints each process's median ns/op.
# Summary per variant: min / median / max of the processes' medians, and the median (min-max) of
# its per-round ratio to that round's floor.
#   bench/experiments/2026-12-03-front-end/run.sh [ROUNDS=7] [CYCLES=1500000] [VARIANTS...]
set -euo pipefail
cd "$(dirname "$0")"
rounds=${1:-7}; cycles=${2:-1500000}; shift 2 || true
variants=${*:-floor floorBitmap floorMarker floorFifo slabArith slabBitmap slabBitmapPm denseBitmap denseBitmapPm denseBitmapPmOwner denseMarker denseMarkerPmOwner hakmem}
read -r -a vs <<<"$variants"
others=("${vs[@]:1}")
for r in $(seq "$rounds"); do
  echo "round $r"
  node --import tsx ladder.mjs floor "$cycles"
  n=${#others[@]}
  for i in $(seq 0 $((n - 1))); do node --import tsx ladder.mjs "${others[$(( (i + r) % n ))]}" "$cycles"; done
done | tee /dev/stderr | node summary.mjs
