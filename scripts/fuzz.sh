#!/usr/bin/env bash
# Fuzzes parse → tokenize → decode → write with libFuzzer (cargo fuzz, nightly).
# Usage: scripts/fuzz.sh [SECONDS]   (default 600). Seeds from the shared corpora when present.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
rustup toolchain list | grep -q nightly || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
midi_dir=${MOTIF_MIDI_DIR:-../shared/data/midi}
seeds=()
for style in "$midi_dir"/*/; do [ -d "$style" ] && seeds+=("$style"); done
mkdir -p fuzz/corpus/midi_pipeline
cargo +nightly fuzz run --sanitizer none midi_pipeline fuzz/corpus/midi_pipeline "${seeds[@]}" -- \
  -max_total_time="$seconds" -max_len=16384 -rss_limit_mb=2048 -timeout=10
