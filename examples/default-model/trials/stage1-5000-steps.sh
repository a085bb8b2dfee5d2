#!/bin/sh
# The Stage-1 trial of 2026-12-07: the recipe's Stage 1 (examples/Makefile, DM_STAGE1) with 5000 steps and the rate
# halved after 3300 and 4200 instead of 3000 steps halved after 2000 and 2500. Run from examples/ after
#   make OUT=$OUT $OUT/default-model/train/pairs.csv $OUT/default-model/heldout/pairs.csv
# with the same OUT (default out) and BIN (default ../bin). It ran as OUT=/work/exp1, BIN=/tmp/exp/bin (its
# run.settings name those paths).
# The whole recipe with this Stage 1 (make default-model with DM_STAGE1_STEPS := 5000 and --lr-milestones 3300,4200
# in DM_STAGE1, Stage 2 unchanged) ran later the same day as OUT=/work/dm12: its Stage-1 validation equals this one's
# byte for byte; Stage 2's validation, settings and the held-out scores of the packed model are the
# stage1-5000-then-stage2-* files (README: the default model).
set -eu
OUT="${OUT:-out}"
BIN="${BIN:-../bin}"
DM="$OUT/default-model"
tail -n +2 "$DM/train/pairs.csv" | cut -d, -f2 | sed "s|^|$DM/train/|" | "$BIN/adcsr-train-vae" --train-encoder \
  --encoder-widths 16,32,64,64 --encoder-layers 1 --latent-channels 16 --posterior mean \
  --config default-model/config.json --batch 4 --crop 128 --perceptual none --lr 5e-4 --lr-milestones 3300,4200 \
  --seed 1 --steps 5000 --checkpoint-every 50 --val "$DM/heldout/hr" --val-every 100 --val-crop 256 --threads 2 \
  -o "$DM/stage1-5000-steps" -
