#!/usr/bin/python3
"""The Stage-2 networks in PyTorch 1.13 (Debian's python3-torch), for the comparison of bench/unet.sh: the SD2.1-base
UNet and AdcSR's LoRA discriminator of tools/fixtures/make_sd_unet_fixture.py (the independent reference written from
the diffusers and PEFT math, which the Java fixture tests compare against), float32, random weights, the inputs of
bench/UnetBench.java (64x64 latents, batch 1, t = 999, context [1, 77, 1024]).

    /usr/bin/python3 bench/unet_reference.py unet|disc THREADS REPEATS

Prints one line: what,median_s (the median of REPEATS runs after one warm-up run): the UNet forward under no_grad,
or D's forward + backward into LoRA and conv_in (the only parameters with requires_grad, as in train.py).
"""
import importlib.util
import os
import statistics
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("su", os.path.join(HERE, "..", "tools", "fixtures",
                                                                 "make_sd_unet_fixture.py"))
su = importlib.util.module_from_spec(spec)
spec.loader.exec_module(su)


def read_safetensors(path):
    import json
    import struct
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        base = 8 + n
        out = {}
        for k, v in header.items():
            if k == "__metadata__":
                continue
            a, b = v["data_offsets"]
            f.seek(base + a)
            out[k] = torch.frombuffer(bytearray(f.read(b - a)), dtype=torch.float32).reshape(v["shape"])
        return out


def agree(weights, io, threads):
    """The UNet on the Java bench's weights file and inputs (UnetBench agree): prints max|y_java - y_torch|,
    max|y_torch| and their ratio."""
    torch.set_num_threads(threads)
    unet = su.UNet(su.SD21, 4)
    missing = unet.load_state_dict(read_safetensors(weights), strict=True)
    data = read_safetensors(io)
    with torch.no_grad():
        y = unet(data["x"], torch.tensor([999.0]), data["ctx"])
    diff = (y - data["y"]).abs().max().item()
    scale = y.abs().max().item()
    print("unet_agreement,max_abs_diff=%.3g,max_abs=%.3g,relative=%.3g" % (diff, scale, diff / scale))
    if not diff / scale < 1e-4:  # float32 rounding is ~1e-6 here; NaN fails too
        sys.exit("bench/unet.sh agree: Java and PyTorch disagree beyond float32 rounding")


def main():
    what, threads, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    cfg = su.SD21
    unet = su.UNet(cfg, 4)
    cin = 4
    if what == "disc":
        unet = su.widened_discriminator(unet, cfg, 256, 4, 8.0)
        cin = 256
        for n, p in unet.named_parameters():
            p.requires_grad_("lora" in n or "conv_in" in n)
    else:
        unet.requires_grad_(False)
    t = torch.tensor([999.0])
    times = []
    for r in range(repeats + 1):
        x = torch.randn(1, cin, 64, 64)
        ctx = torch.randn(1, 77, cfg.cross)
        start = time.perf_counter()
        if what == "disc":
            unet.zero_grad(set_to_none=True)
            unet(x, t, ctx).mean().backward()
        else:
            with torch.no_grad():
                unet(x, t, ctx)
        if r > 0:
            times.append(time.perf_counter() - start)
    print("%s,%.2f" % ("unet_forward" if what == "unet" else "disc_forward_backward", statistics.median(times)))


if __name__ == "__main__":
    if sys.argv[1] == "agree":
        agree(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        main()
