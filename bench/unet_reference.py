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
    main()
