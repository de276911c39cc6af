#!/usr/bin/env bash
# Sets up what the tests need (idempotently) and runs them all: clippy with warnings denied,
# the core crate checked for the browser (wasm32), the fuzz target compiled, and every test
# (release build: the tests train small real models).
# Usage: scripts/test.sh        Corpora: MOTIF_MIDI_DIR (default ../shared/data/midi).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

echo "== clippy (warnings are errors)"
cargo clippy --all-targets --locked -- -D warnings

echo "== core for wasm32 (the browser build)"
CARGO_TARGET_DIR=$MOTIF_CACHE/target-wasm \
  cargo clippy -p motif-core --target wasm32-unknown-unknown --locked -- -D warnings

echo "== fuzz target compiles (run it with scripts/fuzz.sh)"
CARGO_TARGET_DIR=$MOTIF_CACHE/target-fuzz cargo check --manifest-path fuzz/Cargo.toml --quiet

echo "== tests"
cargo test --release --locked
