#!/usr/bin/env bash
# Pairs per second of adcsr-degrade against BasicSR's CPU implementation of the same pipeline (AdcSR preset,
# gt-size 512, DiffJPEG, one photo) on the same machine with the same number of threads. Builds nothing:
# run `mvn -B -DskipTests package` first. Needs a BasicSR checkout for the reference (its modules are loaded by
# path; nothing is installed) and Debian's /usr/bin/python3 with numpy, scipy, torch and cv2.
#
#   bench/degrade.sh BASICSR_DIR [PAIRS=100] [THREADS=2] [PHOTO]
#
# The machine may be shared: figures are only comparable within one run of this script.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
basicsr="${1:?usage: bench/degrade.sh BASICSR_DIR [PAIRS] [THREADS] [PHOTO]}"
n="${2:-100}"
threads="${3:-2}"
photo="${4:-/usr/share/libjxl-testdata/jxl/flower/flower.png}"
out="$root/bench/out/degrade"
rm -rf "$out"
mkdir -p "$out"

echo "photo: $photo; $n pairs at gt-size 512; $threads threads; $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
start=$(date +%s.%N)
cpu=$( { /usr/bin/time -f '%U %S' "$root/bin/adcsr-degrade" -q --preset adcsr --pairs-per-image "$n" \
  --threads "$threads" --seed 1 -o "$out/java" "$photo"; } 2>&1 | tail -n 1)
end=$(date +%s.%N)
java_s=$(echo "$end - $start" | bc -l)
java_cpu=$(echo "$cpu" | awk -v n="$n" '{print ($1 + $2) / n}')
printf 'adcsr-degrade: %d pairs in %.2f s = %.3f pairs/s; %.3f CPU s per pair (JVM start-up, decoding and PNG' \
  "$n" "$java_s" "$(echo "$n / $java_s" | bc -l)" "$java_cpu"
echo ' writing included)'

ref_line=$(/usr/bin/python3 "$root/bench/degrade_reference.py" --basicsr "$basicsr" --photo "$photo" --n "$n" \
  --gt-size 512 --threads "$threads" | tail -n 1)
echo "BasicSR $ref_line (degradation only: no start-up, decoding or writing)"
ref_rate=$(echo "$ref_line" | sed -E 's/.*= ([0-9.]+) pairs\/s.*/\1/')
ref_cpu=$(echo "$ref_line" | sed -E 's/.*; ([0-9.]+) CPU s per pair.*/\1/')
printf 'speed-up: %.2fx in wall time, %.2fx in CPU time per pair\n' "$(echo "($n / $java_s) / $ref_rate" | bc -l)" \
  "$(echo "$ref_cpu / $java_cpu" | bc -l)"
