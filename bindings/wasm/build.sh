#!/usr/bin/env bash
# Builds the npm package into bindings/wasm/pkg: the rules build and the model build, each for
# browsers/bundlers (wasm-bindgen --target web) and for Node.js (--target nodejs), plus the JavaScript
# wrapper and types from js/. Usage: build.sh [rules|model|all] (default all).
# Needs the wasm32-unknown-unknown target and wasm-bindgen-cli at the wasm-bindgen crate's version
# (`make wasm-tools` installs both). wasm-opt is not run: -Oz made the gzipped rules build larger
# (528 KB vs 498 KB) and its construction slower.
set -euo pipefail
cd "$(dirname "$0")"
builds=${1:-all}
[ "$builds" = all ] && builds="rules model"
root=$(cd ../.. && pwd)
target_dir=${CARGO_TARGET_DIR:-$root/target}
pkg=pkg

mkdir -p "$pkg"
for build in $builds; do
  case $build in
    rules) profile=wasm; features=() ;;
    model) profile=wasm-model; features=(--features model) ;;
    *) echo "unknown build '$build' (expected rules, model or all)" >&2; exit 2 ;;
  esac
  flags=""
  # tract's matrix kernels use WebAssembly SIMD (every current browser and Node.js has it).
  [ "$build" = model ] && flags="-C target-feature=+simd128"
  RUSTFLAGS="$flags" cargo build --quiet -p safespace-wasm --target wasm32-unknown-unknown \
    --profile "$profile" "${features[@]}"
  wasm="$target_dir/wasm32-unknown-unknown/$profile/safespace_wasm.wasm"
  for js_target in web nodejs; do
    out="$pkg/${js_target/nodejs/node}/$build"
    rm -rf "$out"
    wasm-bindgen --target "$js_target" --no-typescript --remove-name-section --remove-producers-section --out-dir "$out" "$wasm"
  done
  # The Node.js glue is CommonJS inside an ES-module package.
  echo '{ "type": "commonjs" }' > "$pkg/node/$build/package.json"
done
cp js/* "$pkg/"
cp README.md "$pkg/"
for build in $builds; do
  wasm="$pkg/web/$build/safespace_wasm_bg.wasm"
  echo "$build build: $(stat -c %s "$wasm") bytes, $(gzip -9c "$wasm" | wc -c) gzipped"
done
