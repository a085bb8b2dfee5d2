#!/usr/bin/env bash
# adcsr-prune on a full-size SD2.1-base: wall time and peak memory against the input size, byte-identical reruns,
# and the written headers against the reference key lists. Builds nothing: run `mvn -B -DskipTests package` first.
#
# usage: bench/prune.sh [SD21]
#   SD21: a diffusers SD2.1-base directory or single file; default a zero-filled sparse stand-in (real names and
#   shapes, all holes) made by tools/prune/sd21_standin.py under bench/out/. Reading holes costs no disk time, so
#   stand-in times are a lower bound for real weights. Figures on a shared machine are provisional.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
py=/usr/bin/python3
out="$root/bench/out/prune"
sd="${1:-$root/bench/out/sd21-standin}"
[ -e "$sd" ] || "$py" tools/prune/sd21_standin.py "$sd"
rm -rf "$out"
mkdir -p "$out"

in_bytes=$(du -b --apparent-size -s "$sd" | cut -f1)
for run in 1 2; do
  /usr/bin/time -v bin/adcsr-prune --sd "$sd" -o "$out/run$run" --report "$out/run$run.csv" 2> "$out/time$run.txt"
  wall=$(grep 'Elapsed (wall clock)' "$out/time$run.txt" | awk '{print $NF}')
  rss=$(grep 'Maximum resident set size' "$out/time$run.txt" | awk '{print $NF}')
  printf 'run %d: wall %s, peak RSS %d MiB, input %d MiB (RSS/input %.2f)\n' "$run" "$wall" $((rss / 1024)) \
    $((in_bytes / 1048576)) "$(echo "$rss * 1024 / $in_bytes" | bc -l)"
done
# streaming: the same output with a Java heap far below the input size
JAVA_OPTS=-Xmx400m /usr/bin/time -v bin/adcsr-prune --sd "$sd" -o "$out/small-heap" -q 2> "$out/time-small-heap.txt"
printf 'with -Xmx400m: wall %s, peak RSS %d MiB\n' \
  "$(grep 'Elapsed (wall clock)' "$out/time-small-heap.txt" | awk '{print $NF}')" \
  $(($(grep 'Maximum resident set size' "$out/time-small-heap.txt" | awk '{print $NF}') / 1024))
cmp -s "$out/run1/unet_init.safetensors" "$out/small-heap/unet_init.safetensors" \
  && echo "unet_init.safetensors: identical with -Xmx400m"

for f in unet_init.safetensors decoder_init.safetensors vae_encoder.safetensors; do
  cmp -s "$out/run1/$f" "$out/run2/$f" && echo "$f: byte-identical across runs" || { echo "$f: DIFFERS"; exit 1; }
done
cmp -s "$out/run1.csv" "$out/run2.csv" && echo "layers.csv: byte-identical across runs"

# headers of the written files against the reference lists (independent of the Java code)
"$py" - "$out/run1" adcsr-prune/src/test/resources/fixtures/reference <<'PY'
import json, struct, sys
out, ref = sys.argv[1], sys.argv[2]
def header(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        h = json.loads(f.read(n))
    h.pop("__metadata__", None)
    return [(k, v["shape"]) for k, v in sorted(h.items(), key=lambda kv: kv[1]["data_offsets"][0])]
def reference(name, prefix="", keep=lambda k: True):
    rows = []
    for line in open(f"{ref}/{name}"):
        if line.strip():
            k, s = line.strip().split(" ", 1)
            if keep(k):
                rows.append((prefix + k, json.loads(s)))
    return rows
def count(rows):
    total = 0
    for _, s in rows:
        n = 1
        for d in s:
            n *= d
        total += n
    return total
checks = [
    ("unet_init.safetensors", reference("adcsr_unet_keys.txt", "unet.")),
    ("decoder_init.safetensors", reference("adcsr_half_decoder_keys.txt")),
    ("vae_encoder.safetensors", reference("sd_vae_keys.txt", keep=lambda k: not k.startswith("decoder."))),
]
ok = True
for f, want in checks:
    got = header(f"{out}/{f}")
    same = got == want
    ok &= same
    print(f"{f}: {len(got)} tensors, {count(got):,} parameters, keys/shapes/order {'match' if same else 'DIFFER from'} the reference")
sys.exit(0 if ok else 1)
PY
