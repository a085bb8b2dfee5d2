#!/usr/bin/env bash
# adcsr-export-qnn on the full paper architecture with seeded random weights (the SDK-facing export needs no real
# weights to be exercised): wall time, peak memory and artifact sizes, then the lint of the result; optionally the
# W8A16 simulation. Builds nothing: run `mvn -B -DskipTests package` first. Figures on a shared machine are
# provisional.
#
# usage: bench/export-qnn.sh [CALIB_DIR] [N_IMAGES] [--simulate]
#   CALIB_DIR: calibration photos (default: the CC0 libjxl test photos); N_IMAGES: how many (default 2)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
calib_src="${1:-/usr/share/libjxl-testdata/external/wesaturate/500px}"
n="${2:-2}"
extra=("${@:3}")
out="$root/bench/out/export-qnn"
rm -rf "$out"
mkdir -p "$out/calib"
for f in $(ls "$calib_src"/*.png | head -n "$n"); do cp "$f" "$out/calib/"; done

JAVA_OPTS="${JAVA_OPTS:--Xmx3g}" /usr/bin/time -v bin/adcsr-export-qnn --random-weights --calib "$out/calib" -o "$out/paper" --threads 2 \
  "${extra[@]}" > "$out/stdout.csv" 2> "$out/time.txt" || { tail -n 30 "$out/time.txt"; exit 1; }
printf 'paper config, tile 128, %s calibration tiles: wall %s, peak RSS %d MiB\n' "$n" \
  "$(grep 'Elapsed (wall clock)' "$out/time.txt" | awk '{print $NF}')" \
  $(( $(grep 'Maximum resident set size' "$out/time.txt" | awk '{print $NF}') / 1024 ))
du -h --apparent-size "$out/paper"/adcsr.onnx "$out/paper"/adcsr.onnx.data "$out/paper"/adcsr.qdq.onnx.data \
  "$out/paper"/adcsr.encodings
grep -c ',wide_range$' "$out/paper/ranges.csv" | sed 's/^/tensors flagged wide_range: /' || true
bin/adcsr-export-qnn --lint "$out/paper"
[ -s "$out/stdout.csv" ] && cat "$out/stdout.csv"
true
