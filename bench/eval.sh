#!/usr/bin/env bash
# Images per second for PSNR + SSIM + NIQE at 512x512: adcsr-eval against BasicSR's and pyiqa's CPU code.
# Builds nothing: run `mvn -B -DskipTests package` first. Needs Debian's /usr/bin/python3 with numpy, scipy, torch,
# python3-opencv, python3-torchvision, python3-tqdm, python3-yaml; checkouts of XPixelGroup/BasicSR (8d56e3a, with
# basicsr/version.py) and chaofengc/IQA-PyTorch (v0.1.13), given as BASICSR=... PYIQA=... (defaults below); the
# photos of lomiri-wallpapers-16.04.
# Usage: bench/eval.sh [COUNT]   (default 38 pairs, all the tiles the six photos give; results are machine- and load-dependent)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
count="${1:-38}"
BASICSR="${BASICSR:-/work/ref/basicsr}"
PYIQA="${PYIQA:-/work/ref/pyiqa}"
py=/usr/bin/python3
out="$root/bench/out/eval"
mkdir -p "$out"
if [ "$(cat "$out/count" 2>/dev/null)" != "$count" ]; then
  rm -rf "$out/sr" "$out/gt"
  "$py" "$root/bench/eval_prepare.py" "$out" "$count"   # at most 38 tiles come out of the six photos
  echo "$count" > "$out/count"
fi
n=$(ls "$out/sr" | wc -l)
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "pairs: $n x 512x512 in $out"
now() { date +%s.%N; }
for conv in pyiqa basicsr; do
  for threads in 1 "$(nproc)"; do
    # one image first: JVM start and cold code, subtracted below to give the steady rate
    s1=$(now)
    "$root/bin/adcsr-eval" -q --threads "$threads" --convention "$conv" --sr "$out/sr/000.png" --gt "$out/gt" \
      -m psnr,ssim,niqe > /dev/null
    one=$(awk -v a="$s1" -v b="$(now)" 'BEGIN { print b - a }')
    csv="$out/adcsr-eval-$conv-$threads.csv"
    start=$(date +%s.%N)
    "$root/bin/adcsr-eval" -q --threads "$threads" --convention "$conv" --sr "$out/sr" --gt "$out/gt" \
      -m psnr,ssim,niqe -o "$csv"
    end=$(date +%s.%N)
    awk -v n="$n" -v s="$start" -v e="$end" -v t="$threads" -v c="$conv" -v f="$csv" -v one="$one" 'BEGIN {
      while ((getline line < f) > 0) if (line ~ /^mean,/) { split(line, a, ","); m = sprintf("%.4f ssim %.4f niqe %.4f", a[4], a[5], a[6]) }
      printf "adcsr-eval %-7s %d thread(s): images %d  seconds %.2f  images/s %.2f (%.2f without the %.2f s of one-image run)  mean psnr %s\n", c, t, n, e - s, n / (e - s), (n - 1) / (e - s - one), one, m }'
  done
done
"$py" "$root/bench/eval_reference_speed.py" "$BASICSR" "$PYIQA" "$out" 1 | sed 's/^/reference, 1 thread:        /'
"$py" "$root/bench/eval_reference_speed.py" "$BASICSR" "$PYIQA" "$out" | sed 's/^/reference, default threads: /'
