#!/usr/bin/env bash
# Seconds per adcsr-distill iteration (teacher gt, LoRA D, fp32) against the same iteration in PyTorch 1.13
# (bench/distill_reference.py, the committed reference networks), same machine, same run, and the peak RSS of both.
# Run after the build (mvn -B -DskipTests package); needs Debian's python3-torch and /usr/bin/time; give the PyTorch
# side OpenBLAS as PY_BLAS_DIR (bench/python-blas.sh: Debian's torch otherwise runs netlib's reference BLAS).
#   bench/distill.sh [STEPS]        (default 3 timed iterations after a warm-up one)
# ROWS="tiny 2 64;paper 1 128" picks rows: config (tiny: examples/config_tiny.json with examples/disc_tiny.json and a
# tiny KL encoder; paper: the paper's student and half decoder, SD2.1-base's UNet as D, SD's VAE encoder), batch, LR
# size. Weights are random (zero-filled files for the frozen parts). Prints
#   config,batch,lr_size,java_median_s,pytorch_median_s,speedup,java_peak_rss_mib,pytorch_peak_rss_mib
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
steps="${1:-3}"
threads="${THREADS:-2}"
out=bench/out/distill
mkdir -p "$out"
. bench/python-blas.sh
py_blas_warn
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
rss() { awk -F: '/Maximum resident/ {printf "%d", $2 / 1024}' "$1"; }
echo "config,batch,lr_size,java_median_s,pytorch_median_s,speedup,java_peak_rss_mib,pytorch_peak_rss_mib"
IFS=";" read -r -a rows <<< "${ROWS:-tiny 2 64;paper 1 128}"
for row in "${rows[@]}"; do
  set -- $row
  config=$1 batch=$2 size=$3
  dir="$out/$config"
  mkdir -p "$dir"
  # inputs: pairs of the right sizes, a decoder and an encoder file of the config (random), written by Java's own
  # tools would need weights; a small Python writer keeps the bench self-contained
  /usr/bin/python3 - "$dir" "$config" "$size" <<'PY'
import importlib.util, json, os, sys
import torch, torch.nn as nn
from PIL import Image
d, config, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
here = "tools/fixtures"
def load(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(here, name + ".py"))
    m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); return m
pf, ve, su = load("make_parity_fixture"), load("make_vae_encoder_fixture"), load("make_sd_unet_fixture")
cfg = json.load(open("examples/config_tiny.json")) if config == "tiny" else dict(pf.FULL)
json.dump(cfg, open(d + "/config.json", "w"))
if config == "tiny":
    ve.WIDTHS, ve.LAYERS, ve.GROUPS = (8, 8, 16, 16), 1, 4
else:
    ve.WIDTHS, ve.LAYERS, ve.GROUPS = (128, 256, 512, 512), 2, 32
torch.manual_seed(0)
vae = ve.Vae(); vae.post_quant_conv = nn.Conv2d(4, 4, 1)
dec = pf.HalfDecoder(cfg)
st = {k: v for k, v in vae.state_dict().items()}
meta = {}
if config == "tiny":
    meta["adcsr.encoder"] = "[8, 8, 16, 16] layers 1 latent 4 groups 4"
def write(path, tensors, meta):
    import struct
    header, blobs, off = {}, [], 0
    for n in sorted(tensors):
        b = tensors[n].detach().float().contiguous().numpy().tobytes()
        header[n] = {"dtype": "F32", "shape": list(tensors[n].shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b); off += len(b)
    if meta: header["__metadata__"] = meta
    h = json.dumps(header).encode(); h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h))); f.write(h); [f.write(b) for b in blobs]
write(d + "/encoder.safetensors", st, meta)
write(d + "/decoder.safetensors", {"decoder." + k: v for k, v in dec.state_dict().items()}, {})
os.makedirs(d + "/lr", exist_ok=True); os.makedirs(d + "/hr", exist_ok=True)
rows = ["id,hr_path,lr_path"]
for k in range(4):
    for s, sub in ((size, "lr"), (4 * size, "hr")):
        Image.new("RGB", (s, s), (40 * k, 90, 200 - 30 * k)).save("%s/%s/%d.png" % (d, sub, k))
    rows.append("%d,hr/%d.png,lr/%d.png" % (k, k, k))
open(d + "/pairs.csv", "w").write("\n".join(rows) + "\n")
PY
  disc_args=(--disc-init random)
  [ "$config" = tiny ] && disc_args+=(--disc-config examples/disc_tiny.json)
  rm -rf "$dir/run"
  /usr/bin/time -v -o "$dir/java.time" bin/adcsr-distill --student random --config "$dir/config.json" \
    --decoder "$dir/decoder.safetensors" --encoder "$dir/encoder.safetensors" --teacher gt "${disc_args[@]}" \
    --pairs "$dir/pairs.csv" --steps $((steps + 1)) --batch "$batch" --threads "$threads" -q -o "$dir/run"
  # the seconds column by its name (columns were added before it)
  java=$(awk -F, 'NR == 1 {for (i = 1; i <= NF; i++) if ($i == "seconds") c = i} NR > 2 {print $c}' \
      "$dir/run/train.csv" | median)
  env $(py_blas_env "$threads") /usr/bin/time -v -o "$dir/py.time" /usr/bin/python3 bench/distill_reference.py "$dir/config.json" \
    "$([ "$config" = tiny ] && echo tiny || echo sd21)" "$([ "$config" = tiny ] && echo tiny || echo sd)" \
    "$batch" "$size" "$steps" "$threads" > "$dir/py.out"
  py=$(awk '{print $2}' "$dir/py.out" | median)
  echo "$config,$batch,$size,$java,$py,$(awk -v a="$java" -v b="$py" 'BEGIN {printf "%.2f", b / a}'),$(rss "$dir/java.time"),$(rss "$dir/py.time")"
done
