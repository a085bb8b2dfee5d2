#!/usr/bin/env bash
# Images per second for PSNR + SSIM + NIQE at 512x512: adcsr-eval against BasicSR's and pyiqa's CPU code.
# Builds nothing: run `mvn -B -DskipTests package` first. Needs Debian's /usr/bin/python3 with numpy, scipy, torch,
# python3-opencv, python3-torchvision, python3-tqdm, python3-yaml; checkouts of XPixelGroup/BasicSR (8d56e3a, with
# basicsr/version.py) and chaofengc/IQA-PyTorch (v0.1.13), given as BASICSR=... PYIQA=... (defaults below); the
# photos of lomiri-wallpapers-16.04.
# Usage: bench/eval.sh [COUNT]   (default 24 pairs; results are machine- and load-dependent)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
count="${1:-24}"
BASICSR="${BASICSR:-/work/ref/basicsr}"
PYIQA="${PYIQA:-/work/ref/pyiqa}"
py=/usr/bin/python3
out="$root/bench/out/eval"
mkdir -p "$out"
if [ ! -f "$out/sr/$(printf '%03d' $((count - 1))).png" ]; then
  rm -rf "$out/sr" "$out/gt"
  "$py" "$root/bench/eval_prepare.py" "$out" "$count"
fi
n=$(ls "$out/sr" | wc -l)
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "pairs: $n x 512x512 in $out"
for threads in 1 "$(nproc)"; do
  start=$(date +%s.%N)
  "$root/bin/adcsr-eval" -q --threads "$threads" --sr "$out/sr" --gt "$out/gt" -m psnr,ssim,niqe \
    -o "$out/adcsr-eval-$threads.csv"
  end=$(date +%s.%N)
  awk -v n="$n" -v s="$start" -v e="$end" -v t="$threads" -v f="$out/adcsr-eval-$threads.csv" 'BEGIN {
    while ((getline line < f) > 0) if (line ~ /^mean,/) { split(line, a, ","); m = a[4] " " a[5] " " a[6] }
    printf "adcsr-eval (pyiqa convention, %d threads, JVM start included)  images %d  seconds %.2f  images/s %.2f  mean psnr/ssim/niqe %s\n", t, n, e - s, n / (e - s), m }'
done
"$py" "$root/bench/eval_reference_speed.py" "$BASICSR" "$PYIQA" "$out" 1 | sed 's/^/reference, 1 thread:        /'
"$py" "$root/bench/eval_reference_speed.py" "$BASICSR" "$PYIQA" "$out" | sed 's/^/reference, default threads: /'
