#!/bin/sh
# The Stage-2 trials of 2026-12-07 (night): the recipe's Stage 2 (examples/Makefile, DM_STAGE2) with --lambda-adv
# LAMBDA (0.5 and 0.2) instead of 1, after the recipe's Stage 1. Run from examples/ after make OUT=$OUT
# $OUT/default-model/stage1/decoder.safetensors $OUT/default-model/stage2-pairs/pairs.csv, with the same OUT (default
# out) and BIN (default ../bin). They ran side by side, one thread each, as OUT=/work/dm12 (Stage 1 of the shipped
# weights), BIN=/tmp/exp16/bin (built at ceaef63), outputs /work/dm17/stage2 (0.5) and /work/dm18/stage2 (0.2), with
# --keep 50. Scored as the Makefile's quality step does, unpacked: stage2-lambda-adv-LAMBDA-quality-model.csv.
#   LAMBDA=0.5 sh default-model/trials/stage2-lambda-adv.sh
# The model is scored unpacked, without the card that names its colour fix, so the fix is named here: the first
# scoring of the 2026-12-07 trials missed it, got adcsr-upscale's default for card-less weights (adain) and
# understated them by 0.3 to 0.7 dB; their quality CSVs were scored again with --color-fix wavelet.
set -eu
OUT="${OUT:-out}"
BIN="${BIN:-../bin}"
LAMBDA="${LAMBDA:-0.5}"
DM="$OUT/default-model"
run="$DM/stage2-lambda-adv-$LAMBDA"
"$BIN/adcsr-distill" --student random --config default-model/config.json --decoder "$DM/stage1/decoder.safetensors" \
  --encoder "$DM/stage1/encoder.safetensors" --teacher gt --disc-init random --disc-config default-model/disc.json \
  --pairs "$DM/stage2-pairs/pairs.csv" --val "$DM/heldout/pairs.csv" --val-every 250 --batch 4 --lr 5e-4 \
  --disc-lr 2e-5 --lr-milestones 3400,4200 --lambda-pixel 10 --pixel-color-fix wavelet --seed 1 --steps 5000 \
  --checkpoint-every 100 --keep 50 --lambda-adv "$LAMBDA" --threads 1 -o "$run"
"$BIN/adcsr-upscale" --weights "$run/model.safetensors" --color-fix wavelet --threads 1 "$DM/heldout/lr" -o "$run-quality" --suffix ''
"$BIN/adcsr-eval" --sr "$run-quality" --gt "$DM/heldout/hr" -m psnr,ssim,niqe \
  -o "default-model/trials/stage2-lambda-adv-$LAMBDA-quality-model.csv"
