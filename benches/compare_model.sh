#!/usr/bin/env bash
# Side by side in one run: the Rust engine (rules only, and model+rules) and the Python references.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%F)"
cargo bench -q -p safespace-benches --bench latency
for threads in 1 2; do  # resident and peak memory, each in a fresh process
  cargo bench -q -p safespace-benches --bench latency -- --memory "$threads"
done
PYTHON=${PYTHON:-.venv/bin/python}
"$PYTHON" benches/compare_model.py
