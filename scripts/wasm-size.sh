#!/usr/bin/env bash
# What takes the space in the engine's wasm (issue 10; the page's own is small): twiggy's
# per-item sizes of the wasm that Trunk's release build compiled (before wasm-bindgen and
# wasm-opt, whose name section keeps every function's crate), summed per crate, plus the
# shipped files' sizes gzipped.
#
#   scripts/wasm-size.sh        # after `trunk build --release` (see README)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh >/dev/null
command -v twiggy >/dev/null || cargo install twiggy --version 0.8.0 --locked
wasm=${WASM_TARGET_DIR:-$HOME/.cache/motif/target-wasm}/wasm32-unknown-unknown/wasm-release/motif-engine.wasm
[ -f "$wasm" ] || { echo "error: no $wasm; build the site first (README)" >&2; exit 2; }
for shipped in dist/*.wasm; do
  [ -f "$shipped" ] && echo "$shipped: $(stat -c %s "$shipped") bytes, $(gzip -9c "$shipped" | wc -c) gzipped"
done
twiggy top -n 1000000 -f csv "$wasm" | python3 scripts/wasm_size.py
