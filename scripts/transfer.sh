#!/usr/bin/env bash
# Transfer learning, the report's own suggestion: one network pretrained on every corpus in
# $MOTIF_MIDI_DIR, then fine-tuned per style, each scored by `trainer-cli eval` on the style's
# held-out files next to the same recipe trained from scratch (scripts/ablation.sh's
# "+transpose" row). The content-hash split holds out the same files in the pretraining run
# as in each style's run, so no held-out file is ever trained on. Resumable.
#   PRETRAIN_EPOCHS=8 FINETUNE_EPOCHS=6 nohup scripts/transfer.sh > runs/transfer.log 2>&1 &
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
cargo build --release --locked -p trainer-cli
cli="$CARGO_TARGET_DIR/release/trainer-cli"
out=runs/transfer
mkdir -p "$out/bundles"

run="$out/runs/all"
resume=""; [ -f "$run/progress.json" ] && resume="--resume"
echo "== pretrain on every corpus $resume ($(date -u +%H:%M:%S))"
"$cli" train --data "$MOTIF_MIDI_DIR" --style all --out "$run" \
  --epochs "${PRETRAIN_EPOCHS:-8}" $resume

for style in ${STYLES:-final-fantasy beethoven jazz bach-chorales}; do
  tuned="$out/runs/$style"
  resume=""; [ -f "$tuned/progress.json" ] && resume="--resume"
  echo "== fine-tune $style $resume ($(date -u +%H:%M:%S))"
  "$cli" train --data "$MOTIF_MIDI_DIR/$style" --style "$style" --out "$tuned" \
    --init "$run" --lr 0.001 --epochs "${FINETUNE_EPOCHS:-6}" $resume
  bundle="$out/bundles/$style"
  "$cli" export --run "$tuned" --out "$bundle" >/dev/null
  if [ ! -s "$out/$style.txt" ]; then
    "$cli" eval --model "$bundle" --data "$MOTIF_MIDI_DIR/$style" --pieces 8 --length 200 \
      --top-p 0.95 --seed 1 > "$out/$style.txt.tmp"
    mv "$out/$style.txt.tmp" "$out/$style.txt"
  fi
  grep -E "per-token loss|nats per note" "$out/$style.txt"
done
