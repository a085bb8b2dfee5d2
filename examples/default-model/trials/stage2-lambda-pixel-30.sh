#!/bin/sh
# The Stage-2 trial of 2026-12-07 (evening): the recipe's Stage 2 (examples/Makefile, DM_STAGE2) with --lambda-pixel 30
# instead of 10, after the recipe's Stage 1. Run from examples/ after make OUT=$OUT $OUT/default-model/stage1/decoder.safetensors
# $OUT/default-model/stage2-pairs/pairs.csv, with the same OUT (default out) and BIN (default ../bin). It ran as
# OUT=/work/dm12 (Stage 1 of the shipped weights), BIN=/tmp/exp15/bin (built at 4d6797d), output /work/dm14/stage2,
# and was interrupted at step 1824 and resumed (--resume). Scored as the Makefile's quality step does, unpacked:
# stage2-lambda-pixel-30-quality-model.csv.
# The model is scored unpacked, without the card that names its colour fix, so the fix is named here: the first
# scoring of the 2026-12-07 trials missed it, got adcsr-upscale's default for card-less weights (adain) and
# understated them by 0.3 to 0.7 dB; their quality CSVs were scored again with --color-fix wavelet.
set -eu
OUT="${OUT:-out}"
BIN="${BIN:-../bin}"
DM="$OUT/default-model"
"$BIN/adcsr-distill" --student random --config default-model/config.json --decoder "$DM/stage1/decoder.safetensors" \
  --encoder "$DM/stage1/encoder.safetensors" --teacher gt --disc-init random --disc-config default-model/disc.json \
  --pairs "$DM/stage2-pairs/pairs.csv" --val "$DM/heldout/pairs.csv" --val-every 250 --batch 4 --lr 5e-4 \
  --disc-lr 2e-5 --lr-milestones 3400,4200 --lambda-pixel 30 --pixel-color-fix wavelet --seed 1 --steps 5000 \
  --checkpoint-every 100 --threads 2 -o "$DM/stage2-lambda-pixel-30"
"$BIN/adcsr-upscale" --weights "$DM/stage2-lambda-pixel-30/model.safetensors" --color-fix wavelet --threads 2 "$DM/heldout/lr" \
  -o "$DM/stage2-lambda-pixel-30-quality" --suffix ''
"$BIN/adcsr-eval" --sr "$DM/stage2-lambda-pixel-30-quality" --gt "$DM/heldout/hr" -m psnr,ssim,niqe \
  -o stage2-lambda-pixel-30-quality-model.csv
