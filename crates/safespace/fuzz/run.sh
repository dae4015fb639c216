#!/usr/bin/env bash
# Fuzzes targets for SECONDS each (default 60) with cargo fuzz on the nightly toolchain, seeded from the
# team's suites, and keeps every crash input in regressions/<target>/ so that the stable tests
# (tests/fuzz_regressions.rs, and the CLI's records tests for `records`) replay it in CI from then on.
#
#   cargo install cargo-fuzz && bash crates/safespace/fuzz/run.sh 300 [TARGET ...]
#
# score_model needs ONNX Runtime (pip install onnxruntime==1.32.0); its library is found through Python.
set -euo pipefail
cd "$(dirname "$0")"
SECONDS_PER_TARGET=${1:-60}
shift || true
TARGETS=${*:-normalize score score_model rule_file records}
WORK=${FUZZ_WORK:-../../../target/fuzz-work}
mkdir -p "$WORK"
seed() {  # one corpus file per suite text; whole files for the record readers
  local dir=$WORK/corpus/$1
  mkdir -p "$dir"
  if [ "$1" = records ]; then
    cp ../../../datasets/functional/suite.jsonl ../../../examples/posts.jsonl ../../../examples/ray/posts.csv "$dir/"
    return
  fi
  python3 - "$dir" <<'PY'
import hashlib, json, pathlib, sys
out = pathlib.Path(sys.argv[1])
for suite in ("functional/suite.jsonl", "adversarial/suite.jsonl"):
    for line in (pathlib.Path("../../../datasets") / suite).open():
        text = json.loads(line)["text"].encode()
        (out / hashlib.sha1(text).hexdigest()).write_bytes(text)
PY
}
if [[ " $TARGETS " == *" score_model "* && -z "${ORT_DYLIB_PATH:-}" ]]; then
  ORT_DYLIB_PATH=$(python3 -c "import glob, onnxruntime, os; print(glob.glob(os.path.join(os.path.dirname(onnxruntime.__file__), 'capi', 'libonnxruntime.so*'))[0])")
  export ORT_DYLIB_PATH
fi
for target in $TARGETS; do
  seed "$target"
  cp regressions/"$target"/* "$WORK/corpus/$target/" 2>/dev/null || true
  [ "$target" = rule_file ] && cp ../rules/*.toml "$WORK/corpus/$target/"
  # Each rule_file input recompiles the built-in rules (0.3 s in release, over 10 s instrumented).
  timeout=10; [ "$target" = rule_file ] && timeout=120
  max_len=4096; [ "$target" = records ] && max_len=65536
  echo "== $target: ${SECONDS_PER_TARGET}s"
  cargo +nightly fuzz run "$target" "$WORK/corpus/$target" -- \
    -max_total_time="$SECONDS_PER_TARGET" -max_len="$max_len" -timeout="$timeout" -artifact_prefix="$WORK/artifacts-$target-" \
    2>&1 | grep -E "^#[0-9]+ +DONE|^Done|SUMMARY|panicked|ERROR" || true
  for crash in "$WORK"/artifacts-"$target"-*; do
    [ -e "$crash" ] && cp "$crash" regressions/"$target"/ && echo "kept $crash"
  done
done
