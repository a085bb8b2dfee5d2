#!/usr/bin/env bash
# The Stage-2 networks (README "Stage-2 networks (library)"): the full SD2.1-base UNet forward at 64x64 latents,
# batch 1, float32, and AdcSR's LoRA discriminator (conv_in 256 -> 320, rank 4) forward + backward into LoRA and
# conv_in, Java (bench/UnetBench.java) against PyTorch 1.13 (bench/unet_reference.py, the independent reference of
# tools/fixtures/make_sd_unet_fixture.py) in the same run, random weights. The Java UNet streams its weights from a
# 3.46 GB safetensors file (written once under bench/out/unet/, 3.5 GB of disk) through Stage2Weights, and its peak
# RSS includes that load. Run from anywhere after the build (mvn -B -DskipTests package); needs Debian's
# python3-torch and /usr/bin/time. About 12 GB of memory. THREADS (2) and JAVA_HEAP (1g) may be set; REFERENCE=0
# leaves PyTorch out.
#   bench/unet.sh [unet|disc|all] [REPEATS]      (default all, 3: the median of 3 runs after a warm-up run)
#   bench/unet.sh agree                          the full UNet's output, Java against PyTorch on the same weights file
#                                                and input (float32 both): max |difference|, relative to max |output|;
#                                                exits 1 above 1e-4 (float32 rounding is about 1e-6)
# Prints what,impl,load_s,median_s,peak_rss_mib,anon_after_load_mib,file_after_load_mib,pytorch_over_java (PyTorch's
# time / ours; > 1: we are faster); the two after-load columns are Java's anonymous and file-backed (mapped weights
# file) resident memory once the weights are in place.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
part="${1:-all}"
repeats="${2:-3}"
threads="${THREADS:-2}"
heap="${JAVA_HEAP:-1g}"   # the largest tensor is 118 MB: a small heap keeps garbage float[]s out of the RSS
# DJL keeps each weight in a direct buffer, which the JVM limits to the heap size unless told otherwise
jvm=(-Xmx"$heap" -XX:MaxDirectMemorySize=16g -cp 'lib/*')
out=bench/out/unet
mkdir -p "$out"
. bin/launcher-env.sh   # the launchers' malloc settings
weights="$out/sd21_unet_random.safetensors"
if [ ! -f "$weights" ] && [ "$part" != disc ]; then
  java "${jvm[@]}" bench/UnetBench.java write "$weights" 2>/dev/null
fi
# runs "$@" under /usr/bin/time -v; prints its stdout's last line, then the peak RSS in MiB
measure() {
  /usr/bin/time -v "$@" > "$out/stdout" 2> "$out/stderr"
  echo "$(tail -n 1 "$out/stdout"),$(awk -F': ' '/Maximum resident set size/ {printf "%d", $2 / 1024}' "$out/stderr")"
}
if [ "$part" = agree ]; then
  [ -f "$weights" ] || java "${jvm[@]}" bench/UnetBench.java write "$weights" 2>/dev/null
  java "${jvm[@]}" bench/UnetBench.java agree "$weights" "$out/agree.safetensors" "$threads" 2>/dev/null
  /usr/bin/python3 bench/unet_reference.py agree "$weights" "$out/agree.safetensors" "$threads"
  exit 0
fi
echo "what,impl,load_s,median_s,peak_rss_mib,anon_after_load_mib,file_after_load_mib,pytorch_over_java"
for what in unet disc; do
  [ "$part" = all ] || [ "$part" = "$what" ] || continue
  if [ "$what" = unet ]; then
    j=$(measure java "${jvm[@]}" bench/UnetBench.java unet "$weights" "$threads" "$repeats")
  else
    j=$(measure java "${jvm[@]}" bench/UnetBench.java disc "$threads" "$repeats")
  fi
  IFS=, read -r name jload jsec janon jfile jrss <<< "$j"
  [ -n "$name" ] || { echo "bench/unet.sh: the Java $what run failed; see $out/stderr" >&2; exit 1; }
  echo "$name,java,$jload,$jsec,$jrss,$janon,$jfile,"
  [ "${REFERENCE:-1}" = 1 ] || continue
  p=$(measure /usr/bin/python3 bench/unet_reference.py "$what" "$threads" "$repeats")
  IFS=, read -r _ psec prss <<< "$p"
  awk -v n="$name" -v p="$psec" -v r="$prss" -v j="$jsec" 'BEGIN {printf "%s,pytorch,,%s,%s,,,%.2f\n", n, p, r, p / j}'
done
