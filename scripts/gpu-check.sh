#!/usr/bin/env bash
# Proves training on a GPU (issue 12): `--backend auto` must pick the GPU, then `trainer-cli
# bench` times training and generation on `--backend wgpu` at the report's size (LSTM 3×512,
# batch 64 and 128) and at the shipped size (GRU 2×256, and an LSTM of the same size). Prints
# time steps/s and one-epoch estimates for Final Fantasy. About 3–6 minutes on a GPU.
#
#   scripts/gpu-check.sh                      # builds trainer-cli, then runs
#   MOTIF_TRAINER_CLI=path/to/trainer-cli scripts/gpu-check.sh   # a machine without a network
#
# Exits 1 if no GPU is found or `auto` chose anything else. CI never runs it (no GPU there).
set -euo pipefail
cd "$(dirname "$0")/.."
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$HOME/.cache/motif/xdg-runtime}
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
cli=${MOTIF_TRAINER_CLI:-}
if [ -z "$cli" ]; then
  source scripts/setup.sh
  cargo build --release -q -p trainer-cli
  cli=$CARGO_TARGET_DIR/release/trainer-cli
fi
data=${MOTIF_MIDI_DIR:-$(cd .. && pwd)/shared/data/midi}/final-fantasy
[ -d "$data" ] || { echo "error: no corpus at $data (set MOTIF_MIDI_DIR)" >&2; exit 2; }

echo "== $(date -u +%FT%TZ) on $(uname -n)"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true

echo "== --backend auto"
auto=$("$cli" bench --data "$data" --backend auto --batches 1 --notes 100 2>/dev/null)
echo "$auto"
if ! grep -q ", wgpu: " <<<"$auto" || grep -q "(Cpu)" <<<"$auto"; then
  echo "FAIL: --backend auto did not choose a hardware GPU" >&2
  exit 1
fi

run() {
  echo "== --backend wgpu $*"
  "$cli" bench --data "$data" --backend wgpu --batches 5 --notes 300 "$@" 2>/dev/null
}
run --preset seed --batch 64
run --preset seed --batch 128
run --preset default
run --preset default --cell lstm
echo "== done $(date -u +%FT%TZ)"
