#!/usr/bin/env bash
# Training speed beside the Keras reference, alternating on one machine (issue 12):
# Keras's own fit() on the report's unmodified network, then `trainer-cli bench --preset seed`
# with the fused CPU kernel and with MOTIF_NO_FUSED=1 (burn's step-by-step path).
# Usage: scripts/keras-side-by-side.sh PEER_REPO PEER_VENV [ROUNDS]
#   PEER_REPO: the peer checkout (../shared/peers/seed-keras/get_peer_repo.sh makes it)
#   PEER_VENV: its Python environment (../shared/peers/seed-keras/setup_venv.sh makes it)
set -euo pipefail
repo=${1:?peer checkout}
venv=${2:?peer venv}
rounds=${3:-1}
here=$(cd "$(dirname "$0")/.." && pwd)
peers=${MOTIF_PEERS_DIR:-$here/../shared/peers}
data=${MOTIF_MIDI_DIR:-$here/../shared/data/midi}/final-fantasy
bin=${CARGO_TARGET_DIR:-$here/target}/release/trainer-cli
cargo build --release --locked -p trainer-cli --manifest-path "$here/Cargo.toml" >&2
export PYTHONPATH=$peers/seed-keras/shim TF_CPP_MIN_LOG_LEVEL=2
ours() { /usr/bin/time -f "%e s %P CPU" "$@" 2>&1 | grep -E "train:|CPU" | tr '\n' ' '; echo; }
for round in $(seq "$rounds"); do
  for batch in 128 64; do
    echo "== round $round, batch $batch"
    echo -n "keras: "
    "$venv/bin/python" "$peers/seed-keras/keras_step.py" "$repo" 12 329 "$batch" 2>&1 | grep "keras:"
    echo -n "ours, fused: "
    ours "$bin" bench --preset seed --batch "$batch" --data "$data" --batches 4 --notes 10
    echo -n "ours, step by step: "
    MOTIF_NO_FUSED=1 ours "$bin" bench --preset seed --batch "$batch" --data "$data" --batches 3 --notes 10
  done
done
echo "== shipped size, GRU 2x512, batch 64"
echo -n "fused: "; ours "$bin" bench --data "$data" --hidden 512 --batches 4 --notes 10
echo -n "step by step: "; MOTIF_NO_FUSED=1 ours "$bin" bench --data "$data" --hidden 512 --batches 4 --notes 10
