#!/usr/bin/env bash
# Proves training on a GPU (issue 12): `--backend auto` must pick the GPU, then `trainer-cli
# bench` times training and generation on `--backend wgpu` at the report's size (LSTM 3×512,
# batch 64 and 128) and at the shipped size (GRU 2×256, and an LSTM of the same size), with the
# CPU beside it on the same machine. Prints time steps/s and one-epoch estimates for Final
# Fantasy. Then `trainer-cli bench-decode` gives each shipped bundle's per-token latency on the
# GPU (issue 10): the page's engine with a readback per token, and decoding on the device with
# ids read back every 16 tokens. About 3–6 minutes on a GPU.
#
#   scripts/gpu-check.sh                      # builds trainer-cli, then runs
#   MOTIF_TRAINER_CLI=path/to/trainer-cli scripts/gpu-check.sh   # a machine without a network
#
# A binary built with `--features fusion` says `+fusion` in its backend line. (No CUDA backend:
# burn 0.22's pulls cubecl-llvm, whose build script downloads LLVM from GitHub.)
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
auto=$("$cli" bench --data "$data" --backend auto --batches 1 --notes 100 2>"${TMPDIR:-/tmp}/gpu-check-auto.err")
echo "$auto"
if ! grep -q ", wgpu: " <<<"$auto" || grep -q "(Cpu)" <<<"$auto"; then
  cat "${TMPDIR:-/tmp}/gpu-check-auto.err" >&2
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
echo "== --backend cpu --preset seed --batch 128 (the same machine's CPU)"
"$cli" bench --data "$data" --backend cpu --batches 2 --notes 300 --preset seed --batch 128 2>/dev/null
echo "== bench-decode, shipped bundles"
"$cli" bench-decode --backend wgpu --tokens 512 --chunk 16 --model public/models/*/ 2>/dev/null
"$cli" bench-decode --backend cpu --tokens 512 --model public/models/*/ 2>/dev/null
echo "== done $(date -u +%FT%TZ)"
