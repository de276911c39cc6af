#!/usr/bin/env bash
# Trains the shipped style models and exports them into public/models/. Resumable: run it
# again after any interruption and every run carries on from its last checkpoint.
#   nohup scripts/train-models.sh > runs/train-models.log 2>&1 &
# MODELS="final-fantasy beethoven" limits it to some models.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
cargo build --release --locked -p trainer-cli
cli="$CARGO_TARGET_DIR/release/trainer-cli"
mkdir -p runs

# name | corpus | display name | description | train flags
models=(
  "final-fantasy|final-fantasy|Final Fantasy|Video-game piano arrangements from the Final Fantasy series (timed tokens, LSTM).|--epochs 16"
  "beethoven|beethoven|Beethoven|Beethoven's piano sonatas and pieces (timed tokens, LSTM).|--epochs 12"
  "jazz|jazz|Jazz|Jazz piano standards and solos (timed tokens, LSTM).|--epochs 12"
  "final-fantasy-gru|final-fantasy|Final Fantasy (GRU)|The Final Fantasy model with GRU cells instead of LSTM, to compare (the report's experiment 3).|--epochs 12 --cell gru"
  "final-fantasy-seed|final-fantasy|Final Fantasy (report's recipe)|The report's recipe as a baseline: one token per note or chord, fixed half-beat offsets, 3 LSTM layers of 512, RMSprop. Trained on every 25th window (the full schedule takes about an hour per epoch on 2 cores).|--preset seed --stride 25 --epochs 4"
)

for entry in "${models[@]}"; do
  IFS='|' read -r name corpus display description flags <<<"$entry"
  [ -n "${MODELS:-}" ] && [[ " $MODELS " != *" $name "* ]] && continue
  run="runs/$name"
  resume=""; [ -f "$run/progress.json" ] && resume="--resume"
  echo "== $name: train $flags $resume ($(date -u +%H:%M:%S))"
  # shellcheck disable=SC2086
  "$cli" train --data "$MOTIF_MIDI_DIR/$corpus" --style "$name" --out "$run" $flags $resume
  "$cli" export --run "$run" --out "public/models/$name" --display-name "$display" --description "$description"
done
echo "== all done ($(date -u +%H:%M:%S))"
