#!/usr/bin/env bash
# The ablation behind EXPERIMENTS.md's "What each change buys": one style trained from scratch
# with the changes of issue 9 switched on one at a time, each exported and scored by
# `trainer-cli eval` on the same held-out files (same split seed). Resumable: finished runs and
# evaluations are skipped.
#   STYLE=final-fantasy EPOCHS=12 nohup scripts/ablation.sh > runs/ablation.log 2>&1 &
#   STYLE=jazz TABLE_ONLY=1 scripts/ablation.sh   # the table of what has run, nothing trained
# Results: runs/ablation/<style>/<config>.txt, and their table on stdout at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
cargo build --release --locked -p trainer-cli
cli="$CARGO_TARGET_DIR/release/trainer-cli"
style=${STYLE:-final-fantasy}
epochs=${EPOCHS:-12}
out="runs/ablation/$style"
mkdir -p "$out/bundles"

# config | flags (on top of the default recipe: forget bias 1, <unk> masked, lr halving and
# early stopping apply to every row). The rows are LSTMs, as the recipe was when they ran; the
# "+meter-unit-init" row of EXPERIMENTS.md was "+meter" with N(0, 1) position embeddings.
configs=(
  "scratch|--cell lstm --no-pedal --velocity-buckets 0 --transpose none --meter off"
  "pedal|--cell lstm --velocity-buckets 0 --transpose none --meter off"
  "pedal+velocity|--cell lstm --transpose none --meter off"
  "+transpose|--cell lstm --meter off"
  "+stateful|--cell lstm --stateful --meter off"
  "+meter|--cell lstm"
)
for entry in "${configs[@]}"; do
  IFS='|' read -r name flags <<<"$entry"
  [ -n "${TABLE_ONLY:-}" ] && break
  [ -n "${CONFIGS:-}" ] && [[ " $CONFIGS " != *" $name "* ]] && continue
  run="$out/runs/$name"
  resume=""; [ -f "$run/progress.json" ] && resume="--resume"
  echo "== $style $name: $flags $resume ($(date -u +%H:%M:%S))"
  # shellcheck disable=SC2086
  "$cli" train --data "$MOTIF_MIDI_DIR/$style" --style "$style-$name" --out "$run" \
    --epochs "$epochs" $flags $resume
  bundle="$out/bundles/$name"
  "$cli" export --run "$run" --out "$bundle" >/dev/null
  if [ ! -s "$out/$name.txt" ]; then
    "$cli" eval --model "$bundle" --data "$MOTIF_MIDI_DIR/$style" --pieces 8 --length 200 \
      --top-p 0.95 --seed 1 > "$out/$name.txt.tmp"
    mv "$out/$name.txt.tmp" "$out/$name.txt"
  fi
done

# The table (EXPERIMENTS.md "Every style, one change at a time"), from the outputs above.
python3 scripts/ablation_table.py "$style"
