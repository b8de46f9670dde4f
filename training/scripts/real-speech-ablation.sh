#!/usr/bin/env bash
# Reduced-budget rows of the real-speech results table (training/README "Real speech"): the log-mel+MLP
# floor, leave-one-corpus-out, TESS speaker swap and the fusion/front-end ablation, on the same seeded
# speaker-independent splits. Each row: 3 epochs over 1,500 sampled training clips (2 s crops), 1 thread,
# synthetic corpus mixed in as in the demo recipe. Writes one JSON per row to $OUT (default .cache/ablation-real).
# Usage: bash scripts/real-speech-ablation.sh [row ...]   (rows: see ROWS below; default all)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-.cache/ablation-real}
SYN=${SYN:-.cache/synthetic-1200}
THREADS=${THREADS:-1}
mkdir -p "$OUT"
[ -d "$SYN" ] || PYTHONPATH=. /usr/bin/python3 -m wavfusion make-corpus --out "$SYN" --train 1200 --validation 200 --test 400 --seed 0
BUDGET=(--epochs 3 --max-train-items 1500 --crop-seconds 2.0 --threads "$THREADS" --synthetic "$SYN")
declare -A ROWS=(
  [baseline]="baseline"
  [baseline-loco-ravdess]="baseline --test-corpus ravdess-speech"
  [baseline-loco-tess]="baseline --test-corpus tess"
  [baseline-loco-nemo]="baseline --test-corpus nemo-pl"
  [baseline-drop-calm]="baseline --label-map drop-calm"
  [loco-ravdess]="train-corpora --test-corpus ravdess-speech"
  [loco-tess]="train-corpora --test-corpus tess"
  [loco-nemo]="train-corpora --test-corpus nemo-pl"
  [gca-mar]="train-corpora"
  [audio-only]="train-corpora --fusion audio"
  [conv-front-end]="train-corpora --feature-encoder conv"
  [text-only]="train-corpora --fusion text"
  [concat]="train-corpora --fusion concat"
  [gca-no-mar]="train-corpora --lambda-mar 0"
  [gca-mar-stats-pooling]="train-corpora --pooling mean-std"
  [loco-ravdess-stats-pooling]="train-corpora --test-corpus ravdess-speech --pooling mean-std"
  [loco-tess-stats-pooling]="train-corpora --test-corpus tess --pooling mean-std"
  [loco-nemo-stats-pooling]="train-corpora --test-corpus nemo-pl --pooling mean-std"
  [tess-swap]="train-corpora --tess-test-speaker tess_OAF"
  [gca-mar-log-mel-stats]="train-corpora --log-mel-statistics"
  [audio-only-log-mel-stats]="train-corpora --fusion audio --log-mel-statistics"
  [loco-ravdess-log-mel-stats]="train-corpora --test-corpus ravdess-speech --log-mel-statistics"
  [loco-tess-log-mel-stats]="train-corpora --test-corpus tess --log-mel-statistics"
  [loco-nemo-log-mel-stats]="train-corpora --test-corpus nemo-pl --log-mel-statistics"
  [baseline-speaker-normalised]="baseline --speaker-normalise"
  [baseline-loco-ravdess-speaker-normalised]="baseline --test-corpus ravdess-speech --speaker-normalise"
  [baseline-loco-tess-speaker-normalised]="baseline --test-corpus tess --speaker-normalise"
  [baseline-loco-nemo-speaker-normalised]="baseline --test-corpus nemo-pl --speaker-normalise"
  [gca-mar-log-mel-stats-encoder-dropout]="train-corpora --log-mel-statistics --encoder-dropout 0.5"
  [gca-mar-speaker-normalised]="train-corpora --log-mel-statistics --speaker-normalise --speaker-statistics-dropout 0.1"
  [loco-ravdess-speaker-normalised]="train-corpora --test-corpus ravdess-speech --log-mel-statistics --speaker-normalise --speaker-statistics-dropout 0.1"
  [loco-tess-speaker-normalised]="train-corpora --test-corpus tess --log-mel-statistics --speaker-normalise --speaker-statistics-dropout 0.1"
  [loco-nemo-speaker-normalised]="train-corpora --test-corpus nemo-pl --log-mel-statistics --speaker-normalise --speaker-statistics-dropout 0.1"
)
# the statistics expert (training/README "Statistics expert") fitted on a row's bundle: the row is trained
# again with --out (its bundle kept in $OUT/bundles), then `fit-statistics-expert` on the same split
declare -A EXPERT_OF=(
  [gca-mar-speaker-normalised-expert]=gca-mar-speaker-normalised
  [loco-ravdess-speaker-normalised-expert]=loco-ravdess-speaker-normalised
  [loco-tess-speaker-normalised-expert]=loco-tess-speaker-normalised
  [loco-nemo-speaker-normalised-expert]=loco-nemo-speaker-normalised
)
ORDER=(baseline baseline-loco-ravdess baseline-loco-tess baseline-loco-nemo baseline-drop-calm loco-ravdess loco-tess loco-nemo
       gca-mar audio-only conv-front-end text-only concat gca-no-mar gca-mar-stats-pooling
       loco-ravdess-stats-pooling loco-tess-stats-pooling loco-nemo-stats-pooling tess-swap
       gca-mar-log-mel-stats audio-only-log-mel-stats loco-ravdess-log-mel-stats loco-tess-log-mel-stats
       loco-nemo-log-mel-stats gca-mar-log-mel-stats-encoder-dropout baseline-speaker-normalised
       baseline-loco-ravdess-speaker-normalised baseline-loco-tess-speaker-normalised
       baseline-loco-nemo-speaker-normalised gca-mar-speaker-normalised loco-ravdess-speaker-normalised
       loco-tess-speaker-normalised loco-nemo-speaker-normalised gca-mar-speaker-normalised-expert
       loco-ravdess-speaker-normalised-expert loco-tess-speaker-normalised-expert loco-nemo-speaker-normalised-expert)
[ $# -gt 0 ] && ORDER=("$@")
for row in "${ORDER[@]}"; do
  [ -s "$OUT/$row.json" ] && { echo "== $row: done already"; continue; }
  if [ -n "${EXPERT_OF[$row]:-}" ]; then
    base=${EXPERT_OF[$row]}
    mkdir -p "$OUT/bundles"
    if [ ! -s "$OUT/bundles/$base/model.json" ]; then
      echo "== $row: python -m wavfusion ${ROWS[$base]} --out $OUT/bundles/$base"
      PYTHONPATH=. /usr/bin/python3 -m wavfusion ${ROWS[$base]} "${BUDGET[@]}" --out "$OUT/bundles/$base" \
        --json "$OUT/bundles/$base.json" > "$OUT/bundles/$base.log" 2>&1
    fi
    loco=()
    [[ ${ROWS[$base]} =~ --test-corpus\ ([a-z-]+) ]] && loco=(--test-corpus "${BASH_REMATCH[1]}")
    rm -rf "$OUT/bundles/$row"
    echo "== $row: python -m wavfusion fit-statistics-expert --model $OUT/bundles/$base ${loco[*]}"
    PYTHONPATH=. /usr/bin/python3 -m wavfusion fit-statistics-expert --model "$OUT/bundles/$base" \
      --out "$OUT/bundles/$row" --synthetic "$SYN" "${loco[@]}" --json "$OUT/$row.json" > "$OUT/$row.log" 2>&1
    tail -n 4 "$OUT/$row.log"
    continue
  fi
  args=${ROWS[$row]:?unknown row $row}
  echo "== $row: python -m wavfusion $args"
  if [[ $args == baseline* ]]; then
    PYTHONPATH=. /usr/bin/python3 -m wavfusion $args --json "$OUT/$row.json" > "$OUT/$row.log" 2>&1
  else
    PYTHONPATH=. /usr/bin/python3 -m wavfusion $args "${BUDGET[@]}" --json "$OUT/$row.json" > "$OUT/$row.log" 2>&1
  fi
  tail -n 9 "$OUT/$row.log"
done
