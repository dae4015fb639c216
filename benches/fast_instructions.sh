#!/usr/bin/env bash
# Instructions per post of the fast engine, counted by callgrind: a measure that does not move with
# the load of a shared VM, where wall-clock medians of the same binary differ by 20 % between runs.
# Each CLI given scores 2,048 posts of 280 bytes of each corpus of `--bench latency` (risk-dense and
# everyday; 256 posts, eight times) with `--engine fast --threads 1`; only normalizing and the fast
# stage (rules and lexical tier) are counted, not start-up, JSON, or fusion and the report
# (`Detector::finish`, about 14,000 per risk-dense post counted alone on 2026-12-05; callgrind never
# counted it as a third toggle, so earlier figures from this script leave it out too). The digest of
# each CLI's output shows whether two builds give the same reports. The corpora repeat 14 and 6
# distinct posts, so the lazy DFAs of the regex engine build their states in the first few.
#
# Callgrind's --toggle-collect flips counting on entry and exit of a function it names, so the two
# names below must stay out-of-line symbols that do not call one another (check with
# `callgrind_annotate --inclusive=yes` after changing what they call).
#
#   benches/fast_instructions.sh target/release/safespace [/tmp/safespace-before ...]
#
# Needs valgrind (Debian: `apt-get install valgrind`). About 25 seconds per CLI and corpus.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 CLI [CLI ...]" >&2; exit 2; }
clis=()
for cli in "$@"; do clis+=("$(realpath "$cli")"); done
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for corpus in risk-dense everyday; do
  kind=()
  [ "$corpus" = everyday ] && kind=(everyday)
  cargo bench -q -p safespace-benches --bench latency -- --dump 280 "${kind[@]}" >"$work/one.jsonl"
  for _ in 1 2 3 4 5 6 7 8; do cat "$work/one.jsonl"; done >"$work/$corpus.jsonl"
done
printf '%-40s %-11s %15s  %s\n' cli corpus "instr./post" "output sha256"
for cli in "${clis[@]}"; do
  for corpus in risk-dense everyday; do
    digest=$(valgrind --tool=callgrind --callgrind-out-file="$work/out" \
      --toggle-collect='*Normalizer*normalize*' --toggle-collect='*Detector*fast_stage*' \
      "$cli" score --engine fast --threads 1 --input "$work/$corpus.jsonl" 2>/dev/null |
      sha256sum | cut -c1-16)
    total=$(sed -n 's/^summary: //p' "$work/out")
    printf '%-40s %-11s %15s  %s\n' "$cli" "$corpus" "$((total / 2048))" "$digest"
  done
done
