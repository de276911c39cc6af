#!/usr/bin/env bash
# Sets up what the tests need (idempotently) and runs them all: clippy with warnings denied,
# every native test, and the core crate built for the browser (wasm32).
# Usage: scripts/test.sh        Corpora: MOTIF_MIDI_DIR (default ../shared/data/midi).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== setup"
command -v cargo >/dev/null || { echo "error: install Rust with rustup first (https://rustup.rs)" >&2; exit 1; }
rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
rustup component list --installed | grep -q '^clippy' || rustup component add clippy

# Builds are slow on small machines: keep them outside the checkout so a fresh clone on the
# same machine (as CI makes) reuses them. Native and wasm builds get separate folders so
# neither invalidates the other.
cache=${MOTIF_CACHE_DIR:-$HOME/.cache/motif}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$cache/target}
wasm_target_dir=$cache/target-wasm
export MOTIF_MIDI_DIR=${MOTIF_MIDI_DIR:-$(cd .. && pwd)/shared/data/midi}

echo "== clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== core for wasm32 (the browser build)"
CARGO_TARGET_DIR=$wasm_target_dir cargo clippy -p motif-core --target wasm32-unknown-unknown --locked -- -D warnings

echo "== fuzz target compiles (run it with scripts/fuzz.sh)"
CARGO_TARGET_DIR=$cache/target-fuzz cargo check --manifest-path fuzz/Cargo.toml --quiet

echo "== tests"
cargo test --workspace --locked
