#!/usr/bin/env bash
# Issue 16's speed figures for the learned no-reference metrics of adcsr-eval: images per second of CLIPIQA (CLIP
# RN50), MUSIQ (KonIQ default) and MANIQA (PIPAL: ViT-B/8, 20 crops of 224x224) on 512x512 photos, 1 and 2 threads,
# adcsr's networks (DJL, libtorch; MUSIQ on ONNX Runtime, as adcsr-eval runs it, or on DJL with ENGINE=djl) beside
# pyiqa v0.1.13's own modules (Debian's torch) in the same run, ratio Java/pyiqa, and peak RSS of each side.
#
# Builds nothing: run `mvn -B -DskipTests package` first (the bench uses lib/*; CP_PREFIX=DIR1:DIR2 is put in front,
# e.g. CP_PREFIX=adcsr-core/target/classes to try sources newer than lib/). Needs Debian's /usr/bin/python3 with
# python3-torch, python3-torchvision, python3-numpy, python3-pil; GNU time at /usr/bin/time; the photos of
# lomiri-wallpapers-16.04; and two checkouts, given as PYIQA=... CLIP=... (defaults below), e.g. from the mirrors:
#   mkdir -p /work/ref/pyiqa /work/ref/clip
#   git --git-dir=/work/.mirror/chaofengc+IQA-PyTorch/repo archive v0.1.13 | tar -x -C /work/ref/pyiqa
#   git --git-dir=/work/.mirror/openai+CLIP/repo archive HEAD | tar -x -C /work/ref/clip   (clipiqa: tokenizer, BPE)
# Debian's python3-torch links the generic libblas.so.3, which here is netlib's reference BLAS (libblas3): every Linear
# and matmul of pyiqa's side then runs unoptimised (CLIPIQA's text tower and attention pool, the MUSIQ and MANIQA
# transformers), which pyiqa's users, with pip's MKL torch, do not see. For a fair baseline give pyiqa OpenBLAS,
# without touching the system, as PY_BLAS_DIR (put first on python's LD_LIBRARY_PATH; OPENBLAS_NUM_THREADS is set to
# the thread count):
#   cd /tmp && apt-get download libopenblas0-pthread && dpkg -x libopenblas0-pthread_*.deb /work/ref/openblas
#   PY_BLAS_DIR=/work/ref/openblas/usr/lib/x86_64-linux-gnu/openblas-pthread
# (or install libopenblas0-pthread, which switches the system's libblas.so.3 alternative). The BLAS pyiqa's process
# loaded is printed in its first line.
# timm and einops are not needed: tools/eval/make_maniqa_fixture.py restates timm's vit_base_patch8_224 (v1.0.9
# vision_transformer.py, the unfused attention path that torch < 2 takes) and the einops patterns MANIQA uses.
#
# Usage: bench/eval-nr.sh [COUNT] [METRICS]
#   COUNT images timed per run (default 8) for clipiqa and musiq; MANIQA_COUNT for maniqa (default 2: 20 ViT-B/8 crops
#   an image make it the slow one); METRICS a comma list of clipiqa, musiq, maniqa (default all three); THREADS the
#   thread counts (default "1 2"). COUNT 0 runs the warm-up image only (a smoke test; no rate).
# Per metric and thread count (1, 2): one JVM (bench/EvalNrBench.java) and one Python process (bench/
# eval_nr_reference.py), one after the other, each under /usr/bin/time; each starts its engine with the thread count
# (libtorch intra-op threads, inter-op 1) and loads its network with generated weights (the fixture scripts' values,
# so both print the same scores) outside the timing, scores the first image once as a warm-up (reported apart), then
# times COUNT images one after the other, reading each PNG included (Images.read; PIL + to_tensor as pyiqa's
# imread2tensor). The JVM gets the launchers' malloc settings (bin/launcher-env.sh), Python glibc's defaults, as
# pyiqa's users run it. Peak RSS: of the whole process (/usr/bin/time %M, weight generation included) and while
# scoring (VmHWM reset after loading).
# Images: 512x512 tiles of the photos, x4 bicubic down and up (bench/eval_prepare.py's SR images), in
# bench/out/eval-nr/sr. Logs (every image's time and score) in bench/out/eval-nr/*.log. Results are machine- and
# load-dependent; the one-thread runs and the two-thread runs are not taken concurrently.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
count="${1:-8}"
metrics="${2:-clipiqa,musiq,maniqa}"
maniqa_count="${MANIQA_COUNT:-2}"
thread_counts="${THREADS:-1 2}"
PYIQA="${PYIQA:-/work/ref/pyiqa}"
CLIP="${CLIP:-/work/ref/clip}"
export PYIQA CLIP
py=/usr/bin/python3
cp="${CP_PREFIX:+$CP_PREFIX:}lib/*"
command -v /usr/bin/time >/dev/null || { echo "eval-nr.sh: needs GNU time at /usr/bin/time for peak RSS" >&2; exit 2; }
[ -d "$PYIQA/pyiqa/archs" ] || { echo "eval-nr.sh: no pyiqa v0.1.13 checkout at PYIQA=$PYIQA (see the header)" >&2; exit 2; }
case ",$metrics," in *,clipiqa,*)
  [ -f "$CLIP/clip/simple_tokenizer.py" ] || { echo "eval-nr.sh: no openai/CLIP checkout at CLIP=$CLIP (see the header)" >&2; exit 2; }
esac

out="$root/bench/out/eval-nr"
mkdir -p "$out"
need=$(( count > maniqa_count ? count : maniqa_count ))
need=$(( need < 1 ? 1 : need ))
if [ "$(ls "$out/sr" 2>/dev/null | wc -l)" -lt "$need" ]; then
  rm -rf "$out/sr" "$out/gt"
  "$py" "$root/bench/eval_prepare.py" "$out" "$need"   # at most 38 tiles come out of the six photos
fi
n=$(ls "$out/sr" | wc -l)
. bench/python-blas.sh
py_blas_warn   # without OpenBLAS: CLIPIQA about 16x slower, MANIQA unbearably

. bin/launcher-env.sh   # the launchers' malloc settings, for the JVM only (exported: python runs without them below)
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/^Mem:/ { print $2 }') GB; load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "java: $(java -version 2>&1 | head -1); torch (pyiqa side): $("$py" -c 'import torch; print(torch.__version__)'); pyiqa: $(cat "$PYIQA/VERSION" 2>/dev/null || echo '?')"
echo "images: $n x 512x512 in $out/sr; timed per run: $count (maniqa: $maniqa_count), after one warm-up image"

results="$out/results.txt"
: > "$results"
rm -f "$out"/*.log "$out"/*.log.err "$out"/*.rss
run() {   # side metric threads count
  local side=$1 metric=$2 threads=$3 c=$4 log="$out/$1-$2-$3.log" rss="$out/$1-$2-$3.rss"
  if [ "$side" = java ]; then
    /usr/bin/time -f %M -o "$rss" java -cp "$cp" bench/EvalNrBench.java "$metric" "$threads" "$out/sr" "$c" > "$log" 2> "$log.err" \
      || { echo "eval-nr.sh: java $metric $threads failed, see $log.err" >&2; tail -5 "$log.err" >&2; return 1; }
  else
    env -u GLIBC_TUNABLES $(py_blas_env "$threads") \
      /usr/bin/time -f %M -o "$rss" "$py" bench/eval_nr_reference.py "$metric" "$threads" "$out/sr" "$c" > "$log" 2> "$log.err" \
      || { echo "eval-nr.sh: pyiqa $metric $threads failed, see $log.err" >&2; tail -5 "$log.err" >&2; return 1; }
  fi
  grep -v '^RESULT' "$log" | sed 's/^/  /'
  echo "$(grep '^RESULT' "$log") $(tail -1 "$rss")" >> "$results"
}
for metric in ${metrics//,/ }; do
  c=$count
  [ "$metric" = maniqa ] && c=$maniqa_count
  for threads in $thread_counts; do
    run java "$metric" "$threads" "$c"
    run pyiqa "$metric" "$threads" "$c"
  done
done
echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "pyiqa side: $(grep -ho 'torch [^,]*, BLAS [^;]*' "$out"/pyiqa-*.log | sort -u | paste -sd' ')"

# RESULT side metric threads images warmup_s timed_s images_per_s mean_score scoring_peak_kb load_s process_peak_kb
awk '
  { side = $2; k = $3 " " $4; keys[k] = 1; if (!(k in order)) { order[k] = ++nk; key[nk] = k }
    ips[side, k] = $8; warm[side, k] = $6; n[k] = $5; score[side, k] = $9; speak[side, k] = $10; ppeak[side, k] = $12 }
  function mb(kb) { return kb < 0 ? "?" : sprintf("%d", kb / 1024 + 0.5) }
  END {
    print ""
    print "| metric (512x512) | threads | images | adcsr-eval images/s | pyiqa images/s | ratio | warm-up s (adcsr / pyiqa) | peak RSS MB, scoring (adcsr / pyiqa) | peak RSS MB, process (adcsr / pyiqa) | mean score (adcsr / pyiqa) |"
    print "|---|---|---|---|---|---|---|---|---|---|"
    for (i = 1; i <= nk; i++) {
      k = key[i]; split(k, p, " ")
      r = ips["pyiqa", k] > 0 ? sprintf("%.2fx", ips["java", k] / ips["pyiqa", k]) : "?"
      printf "| %s | %s | %d | %.3f | %.3f | %s | %.2f / %.2f | %s / %s | %s / %s | %.5f / %.5f |\n", p[1], p[2], n[k],
        ips["java", k], ips["pyiqa", k], r, warm["java", k], warm["pyiqa", k], mb(speak["java", k]), mb(speak["pyiqa", k]),
        mb(ppeak["java", k]), mb(ppeak["pyiqa", k]), score["java", k], score["pyiqa", k]
      # both sides score the same images with the same weights: a disagreement means the comparison is void
      d = score["java", k] - score["pyiqa", k]; d = d < 0 ? -d : d
      s = score["pyiqa", k] < 0 ? -score["pyiqa", k] : score["pyiqa", k]
      if (!(d <= 1e-4 * (s > 1e-3 ? s : 1e-3))) { bad = bad " " k }
    }
    if (bad != "") { print "eval-nr.sh: adcsr and pyiqa disagree on the mean score of:" bad > "/dev/stderr"; exit 1 }
  }' "$results"
