#!/usr/bin/env bash
# Fuzzes each target for SECONDS (default 60) with cargo fuzz on the nightly toolchain, seeded from the
# team's suites, and keeps every crash input in regressions/<target>/ so that the stable test
# tests/fuzz_regressions.rs replays it in CI from then on.
#
#   cargo install cargo-fuzz && bash crates/safespace/fuzz/run.sh 300
set -euo pipefail
cd "$(dirname "$0")"
SECONDS_PER_TARGET=${1:-60}
WORK=${FUZZ_WORK:-../../../target/fuzz-work}
mkdir -p "$WORK"
seed() {  # one corpus file per suite text
  local dir=$WORK/corpus/$1
  mkdir -p "$dir"
  python3 - "$dir" <<'PY'
import hashlib, json, pathlib, sys
out = pathlib.Path(sys.argv[1])
for suite in ("functional/suite.jsonl", "adversarial/suite.jsonl"):
    for line in (pathlib.Path("../../../datasets") / suite).open():
        text = json.loads(line)["text"].encode()
        (out / hashlib.sha1(text).hexdigest()).write_bytes(text)
PY
}
for target in normalize score rule_file; do
  seed "$target"
  cp regressions/"$target"/* "$WORK/corpus/$target/" 2>/dev/null || true
  [ "$target" = rule_file ] && cp ../rules/*.toml "$WORK/corpus/$target/"
  # Each rule_file input recompiles the built-in rules (0.3 s in release, over 10 s instrumented).
  timeout=10; [ "$target" = rule_file ] && timeout=120
  echo "== $target: ${SECONDS_PER_TARGET}s"
  cargo +nightly fuzz run "$target" "$WORK/corpus/$target" -- \
    -max_total_time="$SECONDS_PER_TARGET" -max_len=4096 -timeout="$timeout" -artifact_prefix="$WORK/artifacts-$target-" \
    2>&1 | grep -E "^#[0-9]+ +DONE|^Done|SUMMARY|panicked|ERROR" || true
  for crash in "$WORK"/artifacts-"$target"-*; do
    [ -e "$crash" ] && cp "$crash" regressions/"$target"/ && echo "kept $crash"
  done
done
