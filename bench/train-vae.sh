#!/usr/bin/env bash
# Speed of adcsr-train-vae's Stage-1 step against the same step in PyTorch 1.13 (bench/train_vae_reference.py), same
# machine, same run: a KL encoder trained jointly, the decoder, LDM's loss without LPIPS and the PatchGAN (active from
# the first step), Adam for both. Run from anywhere after the build (mvn -B -DskipTests package); needs Debian's
# python3-torch and /usr/bin/time; give the PyTorch side OpenBLAS as PY_BLAS_DIR (bench/python-blas.sh).
#   bench/train-vae.sh [STEPS]          (default 3 timed steps per run after a warm-up step)
# Each row runs REPS times (default 2), Java and PyTorch alternating, so that both meet the same load on a shared
# machine; the median and the minimum are over all timed steps of all repetitions (the minimum is the figure least
# disturbed by other load). Prints
#   config,batch,crop,java_median_s,pytorch_median_s,speedup_median,java_min_s,pytorch_min_s,speedup_min,
#   java_peak_rss_mib,pytorch_peak_rss_mib
# (speedup = PyTorch time / ours; peak RSS the largest of the repetitions, whole process).
# ROWS="tiny 1 256;paper 4 256" picks rows (default: tiny and paper, batch 1 and 4, crop 256). Config "frozen" is the
# real Stage-1 step: the paper's half decoder behind SD's frozen encoder (a zero-filled SD2.1 stand-in from
# tools/prune/sd21_standin.py: same shapes, same work); PyTorch's columns are empty there (no reference for it).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
steps="${1:-3}"
threads="${THREADS:-2}"
reps="${REPS:-2}"
out=bench/out/train-vae
mkdir -p "$out/images"
/usr/bin/python3 - "$out/images" <<'PY'
import math, sys
from PIL import Image
for k in range(4):
    im = Image.new("RGB", (512, 512))
    px = im.load()
    for y in range(512):
        for x in range(512):
            px[x, y] = (int(127 + 120 * math.sin(0.031 * x + k)), int(127 + 120 * math.cos(0.017 * y * (k + 1))),
                        (x * 7 + y * 3 + 40 * k) % 256)
    im.save("%s/bench%d.png" % (sys.argv[1], k))
PY
. bench/python-blas.sh
py_blas_warn
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
echo "config,batch,crop,java_median_s,pytorch_median_s,speedup_median,java_min_s,pytorch_min_s,speedup_min,java_peak_rss_mib,pytorch_peak_rss_mib"
IFS=";" read -r -a rows <<< "${ROWS:-tiny 1 256;tiny 4 256;paper 1 256;paper 4 256}"
for row in "${rows[@]}"; do
  set -- $row
  config=$1 batch=$2 crop=$3
  if [ "$config" = tiny ]; then
    model=(--train-encoder --config examples/config_tiny.json --encoder-widths 8,8,16,16 --encoder-layers 1
        --disc-width 16)
  elif [ "$config" = frozen ]; then
    [ -d "$out/sd21-standin" ] || /usr/bin/python3 tools/prune/sd21_standin.py "$out/sd21-standin"
    model=(--encoder "$out/sd21-standin")
  else
    model=(--train-encoder)   # the paper's half decoder, SD's encoder widths, LDM's PatchGAN
  fi
  java_times="$out/java-$config-$batch-$crop.txt" torch_times="$out/torch-$config-$batch-$crop.txt"
  : > "$java_times"; : > "$torch_times"
  jrss=0 trss=0
  for rep in $(seq "$reps"); do
    run="$out/run-$config-$batch-$crop"
    rm -rf "$run"
    rss=$( { /usr/bin/time -f %M bin/adcsr-train-vae -q --threads "$threads" "${model[@]}" \
        --perceptual none --disc-start 0 --lr 1e-4 --batch "$batch" --crop "$crop" --steps $((steps + 1)) \
        -o "$run" "$out/images" > /dev/null; } 2>&1 | tail -n 1)
    jrss=$(( rss > jrss ? rss : jrss ))
    tail -n +3 "$run/train.csv" | cut -d, -f13 >> "$java_times"
    [ "$config" = frozen ] && continue
    line=$( { env $(py_blas_env "$threads") /usr/bin/time -f %M /usr/bin/python3 bench/train_vae_reference.py "$config" "$batch" "$crop" "$steps" \
        "$threads" --times; } 2>&1)
    echo "$line" | grep '^step_s,' | cut -d, -f2 >> "$torch_times"
    rss=$(echo "$line" | tail -n 1)
    trss=$(( rss > trss ? rss : trss ))
  done
  jm=$(median < "$java_times") jn=$(sort -g "$java_times" | head -n 1)
  if [ "$config" = frozen ]; then
    awk -v c="$config" -v b="$batch" -v k="$crop" -v jm="$jm" -v jn="$jn" -v jr="$jrss" \
        'BEGIN {printf "%s,%d,%d,%.2f,,,%.2f,,,%d,\n", c, b, k, jm, jn, jr / 1024}'
    continue
  fi
  tm=$(median < "$torch_times") tn=$(sort -g "$torch_times" | head -n 1)
  awk -v c="$config" -v b="$batch" -v k="$crop" -v jm="$jm" -v tm="$tm" -v jn="$jn" -v tn="$tn" -v jr="$jrss" \
      -v tr="$trss" 'BEGIN {printf "%s,%d,%d,%.2f,%.2f,%.2f,%.2f,%.2f,%.2f,%d,%d\n", c, b, k, jm, tm, tm / jm, jn, tn,
      tn / jn, jr / 1024, tr / 1024}'
done
