#!/usr/bin/env bash
# The embedded default model's figures (README: the default model). Run from anywhere after the build
# (mvn -B -DskipTests package):
#   bench/default-model.sh [quality|speed|big|all]  (default: all; about 10 minutes on 2 quiet cores)
# quality: the held-out set of the recipe (make -C examples default-model makes it: 8 crops of 512 px from two photos
#   never trained on, LR by adcsr-degrade --preset adcsr, seed 2) upscaled by the default model and by bicubic x4,
#   scored by adcsr-eval (PSNR and SSIM on Y, NIQE); per image and mean; examples/default-model/side-by-side.png.
# speed: 128x128 -> 512x512, 2 threads, per image (decode, network, colour fix, write) from --report, the median of the
#   8 held-out LR images after the first, each engine in its own run.
# big: one 1024x1024 -> 4096x4096 upscale (tiles of 128, overlap 32), wall time and peak RSS, each engine.
# Writes into bench/out/default-model/. Needs ImageMagick (montage, convert) and lomiri-wallpapers-16.04.
set -euo pipefail
export LC_ALL=C
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
out=bench/out/default-model
mkdir -p "$out"
threads="${THREADS:-2}"
part="${1:-all}"
held=examples/out/default-model/heldout
run() { [ "$part" = "$1" ] || [ "$part" = all ]; }
quality_missed=0
export JAVA_OPTS="${JAVA_OPTS:-} -Dadcsr.cache.dir=$out/cache"

[ -f "$held/pairs.csv" ] || make -C examples out/default-model/heldout/pairs.csv

# one command line, its wall time and peak RSS (from /usr/bin/time) on one line
timed() {
  local label="$1"; shift
  /usr/bin/time -f "$label,wall_s=%e,peak_rss_mib=%M" "$@" 2> "$out/time.err" || { cat "$out/time.err"; exit 1; }
  tail -n 1 "$out/time.err" | awk -F, '{ split($3, k, "="); printf "%s,%s,peak_rss_mib=%d\n", $1, $2, k[2] / 1024 }'
}

if run quality; then
  echo "== quality: held-out crops, default model against bicubic x4 of the same LR (adcsr-eval, pyiqa convention)"
  rm -rf "$out/sr" "$out/bicubic"
  bin/adcsr-upscale -q --threads "$threads" "$held/lr" -o "$out/sr" --suffix ''
  bin/adcsr-upscale -q --model bicubic "$held/lr" -o "$out/bicubic" --suffix ''
  for m in bicubic sr; do
    bin/adcsr-eval -q --sr "$out/$m" --gt "$held/hr" -m psnr,ssim,niqe -o "$out/quality-$m.csv"
  done
  # adcsr-eval's rows: row (image|mean), image, count, psnr_y_bt601_pyiqa, ssim_y_bt601_pyiqa, niqe_yiq_pyiqa
  rows() { awk -F, 'NR > 1 {printf "%s,%.2f,%.4f,%.2f\n", ($1 == "mean" ? "mean" : $2), $4, $5, $6}' "$1"; }
  join -t, -j 1 <(rows "$out/quality-bicubic.csv") <(rows "$out/quality-sr.csv") \
    | awk -F, 'BEGIN {print "image,bicubic_psnr,bicubic_ssim,bicubic_niqe,model_psnr,model_ssim,model_niqe"} {print}' \
    | tee "$out/quality.csv"
  # the first held-out crop: bicubic | default model | HR, a 256 px window at full size
  id="$(ls "$held/lr" | head -n 1)"
  for m in bicubic sr; do convert "$out/$m/$id" -crop 256x256+128+128 +repage "$out/win-$m.png"; done
  convert "$held/hr/$id" -crop 256x256+128+128 +repage "$out/win-hr.png"
  montage -label 'bicubic x4' "$out/win-bicubic.png" -label 'default model' "$out/win-sr.png" -label 'HR' \
    "$out/win-hr.png" -tile 3x1 -geometry +4+4 -strip examples/default-model/side-by-side.png
  echo "examples/default-model/side-by-side.png: $id, 256 px window"
  # the issue's goals on the means: PSNR and SSIM above bicubic's, NIQE below; a goal missed makes the script fail
  awk -F, '$1 == "mean" {
      printf "goal PSNR above bicubic (%.2f vs %.2f): %s\n", $5, $2, ($5 > $2 ? "met" : "NOT met")
      printf "goal SSIM above bicubic (%.4f vs %.4f): %s\n", $6, $3, ($6 > $3 ? "met" : "NOT met")
      printf "goal NIQE below bicubic (%.2f vs %.2f): %s\n", $7, $4, ($7 < $4 ? "met" : "NOT met")
      if (!($5 > $2 && $6 > $3 && $7 < $4)) missed = 1 }
    END { exit missed }' "$out/quality.csv" || quality_missed=1
fi

if run speed; then
  echo "== speed: 128x128 -> 512x512, $threads threads, median per image over the 7 after the first"
  for engine in onnxruntime djl; do
    rm -rf "$out/speed-$engine"
    timed "$engine" bin/adcsr-upscale -q --engine "$engine" --threads "$threads" "$held/lr" -o "$out/speed-$engine" \
      --report "$out/speed-$engine.csv"
    tail -n +3 "$out/speed-$engine.csv" | cut -d, -f11 | sort -g \
      | awk -v e="$engine" '{v[NR] = $1} END {printf "%s,median_s=%.3f,min_s=%.3f,max_s=%.3f,n=%d\n", e,
          (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2), v[1], v[NR], NR}'
  done
fi

if run big; then
  echo "== big: 1024x1024 -> 4096x4096 (tiles of 128, overlap 32), $threads threads"
  convert /usr/share/backgrounds/life_by_Aitzol_Berasategi.jpg -crop 2048x2048+520+4 +repage -filter box \
    -resize 1024x1024 "$out/big-lr.png"
  for engine in onnxruntime djl; do
    timed "$engine" bin/adcsr-upscale -q --engine "$engine" --threads "$threads" --overwrite "$out/big-lr.png" \
      -o "$out/big-sr-$engine.png"
  done
fi

# every figure is printed; then a missed goal is the exit status (speed and memory are read off the lines above)
if [ "$quality_missed" = 1 ]; then
  echo "default model: quality goals missed (see the goal lines)" >&2
  exit 1
fi
