#!/usr/bin/python3
"""PyTorch 1.13 reference of one adcsr-distill iteration (train.py's G step then D step, teacher gt, fp32), for
bench/distill.sh: the networks of the committed reference scripts (tools/fixtures/make_parity_fixture.py: student UNet
and half decoder; make_vae_encoder_fixture.py: encoder; make_sd_unet_fixture.py: the SD UNet with PEFT-style LoRA),
random weights. Prints one line per timed iteration: "iter SECONDS".

    /usr/bin/python3 bench/distill_reference.py CONFIG_JSON DISC tiny|sd21 ENCODER tiny|sd BATCH LR_SIZE STEPS THREADS
"""
import copy
import importlib.util
import json
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools", "fixtures")


def load(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(HERE, name + ".py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main():
    cfg_path, disc, enc, batch, size, steps, threads = sys.argv[1:8]
    batch, size, steps, threads = int(batch), int(size), int(steps), int(threads)
    torch.set_num_threads(threads)
    pf, ve, su = load("make_parity_fixture"), load("make_vae_encoder_fixture"), load("make_sd_unet_fixture")
    cfg = json.load(open(cfg_path))
    torch.manual_seed(0)
    unet = pf.PrunedUNet(cfg)
    dec = pf.HalfDecoder(cfg)
    if enc == "tiny":
        ve.WIDTHS, ve.LAYERS, ve.GROUPS = (8, 8, 16, 16), 1, 4
    else:
        ve.WIDTHS, ve.LAYERS, ve.GROUPS = (128, 256, 512, 512), 2, 32
    vae = ve.Vae()
    post_quant = nn.Conv2d(4, 4, 1)
    dcfg = su.SD21 if disc == "sd21" else su.Cfg((32, 64), (2, 4), 1, (True, False), 32, 8, 4)
    sd = su.UNet(dcfg, 4)
    d = su.widened_discriminator(sd, dcfg, cfg["connector_out_channels"], 4, 8.0)
    del sd
    mid = copy.deepcopy(dec.mid_block)
    student = list(unet.parameters()) + list(mid.parameters())
    d_train = [p for n, p in d.named_parameters() if "lora" in n or "conv_in" in n]
    for p in list(dec.parameters()) + list(vae.parameters()) + list(post_quant.parameters()):
        p.requires_grad_(False)
    for n, p in d.named_parameters():
        p.requires_grad_("lora" in n or "conv_in" in n)
    opt = torch.optim.Adam(student, lr=1e-4)
    opt_d = torch.optim.Adam(d_train, lr=1e-6)
    t = torch.full((batch,), 999.0)
    ctx = torch.zeros(batch, 77, dcfg.cross)
    for i in range(steps + 1):
        lr = torch.rand(batch, 3, size, size) * 2 - 1
        hr = torch.rand(batch, 3, 4 * size, 4 * size) * 2 - 1
        t0 = time.perf_counter()
        with torch.no_grad():
            f_gt = dec.mid_block(dec.conv_in(post_quant(vae(hr)[:, :4])))
        f_s = mid(unet(F.pixel_unshuffle(lr, 2)))
        loss = (f_s - f_gt).abs().mean() + F.softplus(-d(f_s, t, ctx)).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        loss_d = F.softplus(d(f_s.detach(), t, ctx)).mean() + F.softplus(-d(f_gt, t, ctx)).mean()
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        if i > 0:
            print("iter %.3f" % (time.perf_counter() - t0), flush=True)


if __name__ == "__main__":
    main()
