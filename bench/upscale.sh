#!/usr/bin/env bash
# Benchmarks of adcsr-upscale with --engine djl (bench/upscale-ort.sh compares the two engines): speed, seams,
# memory. Run from anywhere after the build (mvn -B -DskipTests package):
#   bench/upscale.sh [speed|seams|memory|all]     (default all; about 20 minutes on 2 quiet cores)
#   bench/upscale.sh profile                      (op-by-op seconds and the malloc cost, not part of all)
# Writes into bench/out/ (the random-weight model is made once, 1.8 GB).
# Needs ImageMagick (apt-get install imagemagick) and the photos of ../shared/reference/PHOTOS.md
# (apt-get install lomiri-wallpapers-16.04). All weights are random: speed and memory do not depend on them.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
out=bench/out
mkdir -p "$out"
photo=/usr/share/backgrounds/aitzgorri_by_Aitzol_Berasategi.jpg   # CC-BY-4.0, 3088x2056
threads="${THREADS:-2}"
# the launchers' malloc settings, for the in-process Java benchmark too (bin/adcsr-* source this file themselves)
. bin/launcher-env.sh

part="${1:-all}"
weights="$out/paper-random.safetensors"
[ -f "$weights" ] || java -cp 'lib/*' bench/UpscaleBench.java "$threads" "$weights" 2>/dev/null > /dev/null

if [ "$part" = speed ] || [ "$part" = all ]; then
echo "== speed: full config, 128x128 -> 512x512, fp32, $threads threads (vs a plain 3x3 conv stack, same run)"
java -cp 'lib/*' bench/UpscaleBench.java "$threads" 2>/dev/null
echo "   (the command line on three 128x128 crops of a photo: seconds per image with decoding, colour fix and PNG"
echo "    writing, after the model is loaded; the first image also pays the one-time set-up of the conv kernels)"
mkdir -p "$out/speed"
for i in 0 1 2; do
  convert "$photo" -crop 512x512+$((512 * i))+512 +repage -filter box -resize 128x128 "$out/speed/crop$i.png"
done
bin/adcsr-upscale -q --engine djl --threads "$threads" --weights "$weights" --overwrite --report "$out/speed.csv" \
  "$out/speed"/crop0.png "$out/speed"/crop1.png "$out/speed"/crop2.png -o "$out/speed-sr"
cut -d, -f1,10,11 "$out/speed.csv"
fi

if [ "$part" = profile ]; then
echo "== profile: seconds per op kind, full config 128x128, with and without the launchers' malloc settings"
java -cp 'lib/*' bench/UpscaleProfile.java "$threads" 2>/dev/null
GLIBC_TUNABLES= java -cp 'lib/*' bench/UpscaleProfile.java "$threads" 2>/dev/null
fi

if [ "$part" = seams ] || [ "$part" = all ]; then
echo "== seams: a real photo, LR 256x256 (area-downscaled crop), tile 128, overlap 32"
convert "$photo" -crop 1024x1024+1024+512 +repage -filter box -resize 256x256 "$out/seam-lr.png"
bin/adcsr-upscale -q --engine djl --threads "$threads" --weights "$weights" --tile 128 --overlap 32 --overwrite \
  --report "$out/tiled.csv" "$out/seam-lr.png" -o "$out/seam-sr.png"
java -cp 'lib/*' bench/SeamMeasure.java "$out/seam-sr.png" 256 256 128 32
echo "   (no-overlap control, tile 128, overlap 0:)"
bin/adcsr-upscale -q --engine djl --threads "$threads" --weights "$weights" --tile 128 --overlap 0 --overwrite \
  "$out/seam-lr.png" -o "$out/seam-sr-nooverlap.png"
java -cp 'lib/*' bench/SeamMeasure.java "$out/seam-sr-nooverlap.png" 256 256 128 0
echo "   (untiled control, the same columns measured on the whole-image result:)"
bin/adcsr-upscale -q --engine djl --threads "$threads" --weights "$weights" --tile 256 --overwrite \
  --report "$out/whole.csv" "$out/seam-lr.png" -o "$out/seam-sr-whole.png"
java -cp 'lib/*' bench/SeamMeasure.java "$out/seam-sr-whole.png" 256 256 128 32
echo "   (time and peak memory of the 256x256 image in 9 tiles of 128 and whole:)"
cat "$out/tiled.csv"; tail -n 1 "$out/whole.csv"
fi

if [ "$part" = memory ] || [ "$part" = all ]; then
echo "== memory: LR 1024x1024 -> 4096x4096 in tiles (128, overlap 32): peak RSS must stay under 6 GB"
convert "$photo" -crop 2048x2048+512+0 +repage -filter box -resize 1024x1024 "$out/big-lr.png"
bin/adcsr-upscale -q --engine djl --threads "$threads" --weights "$weights" --overwrite --report "$out/big.csv" \
  "$out/big-lr.png" -o "$out/big-sr.png"
cat "$out/big.csv"
fi
