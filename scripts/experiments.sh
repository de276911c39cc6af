#!/usr/bin/env bash
# Reproduces the numbers in EXPERIMENTS.md from the runs of scripts/train-models.sh (run that
# first), plus the extra runs the experiments need. Resumable: finished runs are skipped.
#   nohup scripts/experiments.sh > runs/experiments.log 2>&1 &
# Results go to runs/experiments/*.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
cargo build --release --locked -p trainer-cli
cli="$CARGO_TARGET_DIR/release/trainer-cli"
midi="$MOTIF_MIDI_DIR"
out=runs/experiments
mkdir -p "$out/bundles"

train() { # run-name corpus flags...
  local name=$1 corpus=$2; shift 2
  local resume=""; [ -f "runs/$name/progress.json" ] && resume="--resume"
  "$cli" train --data "$midi/$corpus" --style "$name" --out "runs/$name" "$@" $resume
}
eval_into() { # file bundle corpus
  if [ ! -s "$1" ]; then
    "$cli" eval --model "$2" --data "$midi/$3" --pieces 4 --length 200 --seed 1 > "$1.tmp"
    mv "$1.tmp" "$1"
  fi
}

# 1. Epochs: the Final Fantasy model after 1, 8 and 15 epochs (15 = its best held-out loss).
for epoch in 1 8 15; do
  bundle="$out/bundles/final-fantasy-epoch-$epoch"
  [ -f "$bundle/manifest.json" ] || "$cli" export --run runs/final-fantasy --epoch "$epoch" --out "$bundle" >/dev/null
  eval_into "$out/epochs-final-fantasy-$epoch.txt" "$bundle" final-fantasy
done

# 2. Styles: every style model against its own corpus and the other two.
for model in final-fantasy beethoven jazz; do
  for corpus in final-fantasy beethoven jazz; do
    eval_into "$out/styles-$model-on-$corpus.txt" "public/models/$model" "$corpus"
  done
done

# 3. GRU vs LSTM (same corpus, split and recipe).
eval_into "$out/cell-final-fantasy-gru.txt" public/models/final-fantasy-gru final-fantasy
eval_into "$out/cell-final-fantasy-seed.txt" public/models/final-fantasy-seed final-fantasy

# 4. Timing: windows of 25 and 50 tokens (the shipped model uses 100), 8 epochs each, same split.
for len in 25 50; do
  train "ff-seq$len" final-fantasy --seq-len "$len" --epochs 8
  bundle="$out/bundles/ff-seq$len"
  [ -f "$bundle/manifest.json" ] || "$cli" export --run "runs/ff-seq$len" --out "$bundle" >/dev/null
  eval_into "$out/seq-$len.txt" "$bundle" final-fantasy
done
# 5. Like with like: the report's network and training (3 LSTM layers of 512, RMSprop, one target
#    per window) on `timed` tokens and the same split, so its per-token held-out loss compares
#    directly with the shipped model's. Every 50th window, 4 epochs (2 cores).
train ff-seed-recipe-timed final-fantasy --preset seed --tokenizer timed --min-count 2 --stride 50 --epochs 4
echo "== experiments done"
