#!/usr/bin/env bash
# adcsr-upscale's two engines side by side: DJL (libtorch) and ONNX Runtime. Run from anywhere after the build
# (mvn -B -DskipTests package):
#   bench/upscale-ort.sh [speed|cli|tiled|big|profile|all]  (default: all but big and profile, about 10 minutes on
#                               2 quiet cores and several times that on loaded ones; big: 1024x1024 -> 4096x4096 once
#                               per engine, about 8 + 13 minutes quiet; profile: where ONNX Runtime spends a 128x128
#                               forward, by operator type and by node, from its own profiler, bench/OrtProfile.java)
# speed: RUNS=N timed runs per engine (default 5); VARIANTS=none,subpixel,mha,... also times those graphs of the same
# weights in the same rotation (none: the exported graph; adcsr-upscale's carries both rewrites, OnnxOps.Rewrites).
# profile: GRAPH=file profiles another cached graph instead of adcsr-upscale's.
# Writes into bench/out/ (the random-weight model is made once, 1.8 GB, shared with bench/upscale.sh).
# Needs ImageMagick and the photos of ../shared/reference/PHOTOS.md, as bench/upscale.sh.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
out=bench/out
mkdir -p "$out"
photo=/usr/share/backgrounds/aitzgorri_by_Aitzol_Berasategi.jpg   # CC-BY-4.0, 3088x2056
threads="${THREADS:-2}"
. bin/launcher-env.sh
part="${1:-default}"
weights="$out/paper-random.safetensors"

run() { [ "$part" = "$1" ] || [ "$part" = all ] || { [ "$part" = default ] && [ "$1" != big ] && [ "$1" != profile ]; }; }

# one command line, its wall time and peak RSS (from /usr/bin/time) on one line
timed() {
  local label="$1"; shift
  /usr/bin/time -f "$label,wall_s=%e,peak_rss_mib=%M" "$@" 2> "$out/time.err" || { cat "$out/time.err"; exit 1; }
  tail -n 1 "$out/time.err" | awk -F, '{ split($3, k, "="); printf "%s,%s,peak_rss_mib=%d\n", $1, $2, k[2] / 1024 }'
}

if run speed || [ ! -f "$weights" ]; then
  echo "== speed: full config, 128x128 -> 512x512, fp32, $threads threads, both engines in one process"
  java ${VARIANTS:+-Dvariants=$VARIANTS} -cp 'lib/*' bench/UpscaleOrtBench.java "$threads" "${RUNS:-5}" $([ -f "$weights" ] || echo "$weights") 2>/dev/null
fi

if run cli; then
  echo "== cli: three 128x128 crops of a photo per engine (per image: decoding, network, colour fix, PNG writing)"
  mkdir -p "$out/speed"
  for i in 0 1 2; do
    convert "$photo" -crop 512x512+$((512 * i))+512 +repage -filter box -resize 128x128 "$out/speed/crop$i.png"
  done
  # ONNX Runtime twice: first with an empty weight cache (written from the safetensors file), then finding it
  rm -rf "$out/ort-cache"
  export JAVA_OPTS="${JAVA_OPTS:-} -Dadcsr.cache.dir=$out/ort-cache"
  for engine in djl onnxruntime onnxruntime-cached; do
    timed "$engine" bin/adcsr-upscale -q --engine "${engine%-cached}" --threads "$threads" --weights "$weights" \
      --overwrite --report "$out/cli-$engine.csv" "$out/speed"/crop0.png "$out/speed"/crop1.png \
      "$out/speed"/crop2.png -o "$out/cli-$engine"
    cut -d, -f1,4,10,11,12 "$out/cli-$engine.csv"
  done
  java -cp 'lib/*' bench/ImageDiff.java "$out/cli-djl/crop0_x4.png" "$out/cli-onnxruntime/crop0_x4.png"
fi

if run tiled; then
  echo "== tiled: LR 256x256 -> 1024x1024 in 9 tiles (128, overlap 32), once per engine"
  convert "$photo" -crop 1024x1024+1024+512 +repage -filter box -resize 256x256 "$out/tiled-lr.png"
  export JAVA_OPTS="${JAVA_OPTS:-} -Dadcsr.cache.dir=$out/ort-cache"
  for engine in onnxruntime djl; do
    timed "$engine" bin/adcsr-upscale -q --engine "$engine" --threads "$threads" --weights "$weights" --overwrite \
      --report "$out/tiled-$engine.csv" "$out/tiled-lr.png" -o "$out/tiled-sr-$engine.png"
    cut -d, -f1,4,10,11,12 "$out/tiled-$engine.csv"
  done
  java -cp 'lib/*' bench/ImageDiff.java "$out/tiled-sr-djl.png" "$out/tiled-sr-onnxruntime.png"
fi

if run big; then
  echo "== big: LR 1024x1024 -> 4096x4096 in tiles (128, overlap 32, 121 tiles), once per engine"
  convert "$photo" -crop 2048x2048+512+0 +repage -filter box -resize 1024x1024 "$out/big-lr.png"
  export JAVA_OPTS="${JAVA_OPTS:-} -Dadcsr.cache.dir=$out/ort-cache"
  for engine in onnxruntime djl; do
    timed "$engine" bin/adcsr-upscale -q --engine "$engine" --threads "$threads" --weights "$weights" --overwrite \
      --report "$out/big-$engine.csv" "$out/big-lr.png" -o "$out/big-sr-$engine.png"
    cut -d, -f1,4,10,11,12 "$out/big-$engine.csv"
  done
  java -cp 'lib/*' bench/ImageDiff.java "$out/big-sr-djl.png" "$out/big-sr-onnxruntime.png"
fi

if run profile; then
  echo "== profile: ONNX Runtime's profiler over 3 runs of the 128x128 graph after a warm-up, $threads threads"
  # the graph adcsr-upscale builds and caches for the random weights, in a cache of its own (made once)
  cache="$out/ort-profile-cache"
  # adcsr-upscale's graph (named by its rewrites), or with GRAPH=file another one (say, a variant that
  # bench/UpscaleOrtBench.java wrote into bench/out/ort-bench-cache)
  if ! ls "$cache"/onnx/*/128x128*.onnx > /dev/null 2>&1; then
    convert "$photo" -crop 512x512+0+512 +repage -filter box -resize 128x128 "$out/profile-lr.png"
    JAVA_OPTS="${JAVA_OPTS:-} -Dadcsr.cache.dir=$cache" bin/adcsr-upscale -q --engine onnxruntime \
      --threads "$threads" --weights "$weights" --overwrite "$out/profile-lr.png" -o "$out/profile-sr.png"
  fi
  java -cp 'lib/*' bench/OrtProfile.java "${GRAPH:-$(ls -t "$cache"/onnx/*/128x128*.onnx | head -n 1)}" "$threads" 3 \
    "${ORT_OPTIONS:-}"
fi
