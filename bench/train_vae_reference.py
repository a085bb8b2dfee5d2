#!/usr/bin/python3
"""The same Stage-1 training step as adcsr-train-vae, in PyTorch 1.13 (Debian's python3-torch), for the speed
comparison of bench/train-vae.sh: a KL encoder trained jointly (diffusers Encoder + quant_conv, from
tools/fixtures/make_vae_encoder_fixture.py), post_quant_conv, the AdcSR half decoder from conv_in (from
tools/fixtures/make_parity_fixture.py), LDM's loss without LPIPS (L1, KL, hinge PatchGAN with the adaptive weight via
torch.autograd.grad, as LDM computes it) and Adam (0.5, 0.9) for both optimizers. Random weights; times only.

    /usr/bin/python3 bench/train_vae_reference.py tiny|paper BATCH CROP STEPS THREADS [--times]

Prints one line: config,batch,crop,median_s,min_s (seconds per step over STEPS steps after one warm-up step); with
--times, one line step_s,SECONDS per timed step before it.
"""
import importlib.util
import json
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, "..", "tools", "fixtures")


def load(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(FIX, name + ".py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main():
    which, batch, crop, steps, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    torch.set_num_threads(threads)
    ve = load("make_vae_encoder_fixture")
    pf = load("make_parity_fixture")
    ld = load("make_ldm_loss_fixture")
    if which == "tiny":
        cfg = json.load(open(os.path.join(HERE, "..", "examples", "config_tiny.json")))
        ve.WIDTHS, ve.LAYERS, ve.GROUPS = (8, 8, 16, 16), 1, 4
        disc = ld.NLayerDiscriminator(3, 16, 3)
    else:
        cfg = {"decoder_block_out_channels": [64, 128, 256, 256], "decoder_norm_groups": 32,
               "decoder_layers_per_block": 2}
        ve.WIDTHS, ve.LAYERS, ve.GROUPS = (128, 256, 512, 512), 2, 32
        disc = ld.NLayerDiscriminator(3, 64, 3)
    vae = ve.Vae()
    post_quant = torch.nn.Conv2d(4, 4, 1)
    dec = pf.HalfDecoder(cfg)
    ae_params = list(vae.parameters()) + list(post_quant.parameters()) + list(dec.parameters())
    opt_ae = torch.optim.Adam(ae_params, lr=1e-4, betas=(0.5, 0.9))
    opt_d = torch.optim.Adam(disc.parameters(), lr=1e-4, betas=(0.5, 0.9))
    times = []
    for step in range(steps + 1):
        x = torch.rand(batch, 3, crop, crop) * 2 - 1
        t0 = time.perf_counter()
        moments = vae(x)
        mean, logvar = torch.chunk(moments, 2, dim=1)
        logvar = torch.clamp(logvar, -30.0, 20.0)
        z = mean + torch.exp(0.5 * logvar) * torch.randn_like(mean)
        kl = 0.5 * torch.sum(mean.pow(2) + torch.exp(logvar) - 1.0 - logvar, dim=[1, 2, 3])
        y = dec.mid_block(dec.conv_in(post_quant(z)))
        for blk in dec.up_blocks:
            y = blk(y)
        rec = dec.conv_out(F.silu(dec.conv_norm_out(y)))
        nll = torch.sum(torch.abs(x - rec)) / batch
        g = -torch.mean(disc(rec))
        last = dec.conv_out.weight
        gn = torch.autograd.grad(nll, last, retain_graph=True)[0]
        gg = torch.autograd.grad(g, last, retain_graph=True)[0]
        dw = torch.clamp(torch.norm(gn) / (torch.norm(gg) + 1e-4), 0.0, 1e4).detach() * 0.5
        loss = nll + 1e-6 * torch.sum(kl) / batch + dw * g
        opt_ae.zero_grad()
        loss.backward()
        opt_ae.step()
        opt_d.zero_grad()
        d = 0.5 * (torch.mean(F.relu(1.0 - disc(x.detach()))) + torch.mean(F.relu(1.0 + disc(rec.detach()))))
        d.backward()
        opt_d.step()
        if step > 0:
            times.append(time.perf_counter() - t0)
    if "--times" in sys.argv[6:]:
        for t in times:
            print("step_s,%.4f" % t)
    print("%s,%d,%d,%.3f,%.3f" % (which, batch, crop, statistics.median(times), min(times)))


if __name__ == "__main__":
    main()
