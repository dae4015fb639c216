#!/usr/bin/env bash
# Side by side in one run: the Rust engine (the fast engine, and the full engine with both of the
# model's arithmetics) and the Python references.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%F)"
echo "CPU features: $(grep -m1 -o -w -E 'avx2|avx512f|avx512bw|avx512_vnni|avx_vnni|amx_int8' /proc/cpuinfo | sort -u | xargs)"
cargo bench -q -p safespace-benches --bench latency
for arithmetic in "" --int8; do
  for threads in 1 2; do  # resident and peak memory, each in a fresh process
    cargo bench -q -p safespace-benches --bench latency -- --memory "$threads" $arithmetic
  done
done
PYTHON=${PYTHON:-.venv/bin/python}
"$PYTHON" benches/compare_model.py
