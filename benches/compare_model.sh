#!/usr/bin/env bash
# Side by side in one run: the Rust engine (rules only, and model+rules) and the Python references.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%F)"
cargo bench -q -p safespace-benches --bench latency
PYTHON=${PYTHON:-.venv/bin/python}
"$PYTHON" benches/compare_model.py
