#!/usr/bin/env bash
# Sets up what the tests need (idempotently) and runs them all: clippy with warnings denied
# (natively and for the browser's wasm32), the fuzz target compiled, every Rust test (release
# build: the tests train small real models), then the web app built with Trunk and driven in a
# real headless Chromium (tests/e2e).
# Usage: scripts/test.sh        Corpora: MOTIF_MIDI_DIR (default ../shared/data/midi).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
source scripts/setup-web.sh
if ! command -v chromium >/dev/null; then
  echo "== installing chromium (Debian's; the end-to-end tests drive it headless)"
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium >/dev/null
fi

echo "== clippy (warnings are errors)"
cargo clippy --all-targets --locked -- -D warnings

echo "== the web app for wasm32 (warnings are errors)"
# Every feature (the page and the WebGPU engine), then the CPU-only engine's own set.
CARGO_TARGET_DIR=$WASM_TARGET_DIR \
  cargo clippy -p motif-app --target wasm32-unknown-unknown --all-features --locked -- -D warnings
CARGO_TARGET_DIR=$WASM_TARGET_DIR \
  cargo clippy -p motif-app --target wasm32-unknown-unknown --features engine --locked -- -D warnings

echo "== fuzz target compiles (run it with scripts/fuzz.sh)"
CARGO_TARGET_DIR=$MOTIF_CACHE/target-fuzz cargo check --manifest-path fuzz/Cargo.toml --quiet

echo "== tests"
cargo test --release --locked

echo "== web app build (trunk build --release)"
CARGO_TARGET_DIR=$WASM_TARGET_DIR trunk build --release

echo "== end-to-end tests in headless Chromium"
cargo build --release --locked -p trainer-cli
MOTIF_TRAINER_CLI=$CARGO_TARGET_DIR/release/trainer-cli node --test --test-reporter=spec tests/e2e/e2e.test.mjs
