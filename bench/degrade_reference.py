#!/usr/bin/env python3
"""The reference for adcsr-degrade: BasicSR's own degradation functions driven the way Real-ESRGAN's dataset
(__getitem__) and model (feed_data) drive them, batch size 1, on the CPU. Used by bench/degrade.sh (speed) and to
compute the reference figures of DegradeStatisticsTest. Nothing here runs inside the tools.

Needs a BasicSR checkout (not installed; its modules are loaded by path), numpy, scipy, torch and cv2:

    /usr/bin/python3 bench/degrade_reference.py --basicsr /path/to/BasicSR --photo P.png --n 200 [--gt-size 512]
        [--threads 2] [--stats] [--seed 0] [--preset adcsr|realesrgan] [--crop N]

Prints pairs per second (speed), or with --stats the distribution of PSNR(LR, bicubic-downscaled HR) and LR
sharpness, computed exactly like DegradeStatisticsTest computes them for adcsr-degrade's pairs.
"""
import argparse
import importlib.util
import math
import os
import random
import sys
import time
import types

import cv2
import numpy as np
import torch
import torch.nn.functional as F

ADCSR = dict(blur_kernel_size=21, kernel_list=['iso', 'aniso', 'generalized_iso', 'generalized_aniso',
                                                'plateau_iso', 'plateau_aniso'],
             kernel_prob=[0.45, 0.25, 0.12, 0.03, 0.12, 0.03], sinc_prob=0.1, blur_sigma=[0.2, 1.5],
             betag_range=[0.5, 2.0], betap_range=[1, 1.5], sinc_prob2=0.1, blur_sigma2=[0.2, 1.0],
             betag_range2=[0.5, 2.0], betap_range2=[1, 1.5], final_sinc_prob=0.8,
             resize_prob=[0.2, 0.7, 0.1], resize_range=[0.3, 1.5], gaussian_noise_prob=0.5, noise_range=[1, 15],
             poisson_scale_range=[0.05, 2.0], gray_noise_prob=0.4, jpeg_range=[60, 95], second_blur_prob=0.5,
             resize_prob2=[0.3, 0.4, 0.3], resize_range2=[0.6, 1.2], gaussian_noise_prob2=0.5,
             noise_range2=[1, 12], poisson_scale_range2=[0.05, 1.0], gray_noise_prob2=0.4, jpeg_range2=[60, 100])

REALESRGAN = dict(ADCSR, blur_sigma=[0.2, 3], betag_range=[0.5, 4], betap_range=[1, 2], blur_sigma2=[0.2, 1.5],
                  betag_range2=[0.5, 4], betap_range2=[1, 2], resize_range=[0.15, 1.5], noise_range=[1, 30],
                  poisson_scale_range=[0.05, 3], jpeg_range=[30, 95], second_blur_prob=0.8,
                  resize_range2=[0.3, 1.2], noise_range2=[1, 25], poisson_scale_range2=[0.05, 2.5],
                  jpeg_range2=[30, 95])


def load(basicsr, rel, name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(basicsr, rel))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def stub_torchvision():
    """degradations.py imports torchvision only for rgb_to_grayscale (Debian has no torchvision)."""
    if "torchvision" in sys.modules:
        return
    try:
        import torchvision  # noqa: F401
        return
    except ImportError:
        pass

    def rgb_to_grayscale(img, num_output_channels=1):
        r, g, b = img.unbind(dim=-3)
        l_img = (0.2989 * r + 0.587 * g + 0.114 * b).to(img.dtype).unsqueeze(dim=-3)
        return l_img.expand(img.shape) if num_output_channels == 3 else l_img

    tv = types.ModuleType("torchvision")
    tr = types.ModuleType("torchvision.transforms")
    fn = types.ModuleType("torchvision.transforms.functional")
    fn.rgb_to_grayscale = rgb_to_grayscale
    tv.transforms = tr
    tr.functional = fn
    sys.modules.update({"torchvision": tv, "torchvision.transforms": tr, "torchvision.transforms.functional": fn})


class Pipeline:
    def __init__(self, basicsr, opt, crop, gt_size, usm=False):
        stub_torchvision()
        self.deg = load(basicsr, "basicsr/data/degradations.py", "bsr_degradations")
        self.ipu = load(basicsr, "basicsr/utils/img_process_util.py", "bsr_img_process_util")
        self.jpeger = load(basicsr, "basicsr/utils/diffjpeg.py", "bsr_diffjpeg").DiffJPEG(differentiable=False)
        self.opt = opt
        self.crop = crop
        self.gt_size = gt_size
        self.kernel_range = [2 * v + 1 for v in range(3, 11)]
        self.usm = self.ipu.USMSharp() if usm else None
        self.pulse = torch.zeros(21, 21).float()
        self.pulse[10, 10] = 1

    def kernel(self, suffix):
        o = self.opt
        k = random.choice(self.kernel_range)
        if np.random.uniform() < o['sinc_prob' + suffix]:
            omega = np.random.uniform(np.pi / 3, np.pi) if k < 13 else np.random.uniform(np.pi / 5, np.pi)
            kern = self.deg.circular_lowpass_kernel(omega, k, pad_to=False)
        else:
            kern = self.deg.random_mixed_kernels(o['kernel_list'], o['kernel_prob'], k, o['blur_sigma' + suffix],
                                                 o['blur_sigma' + suffix], [-math.pi, math.pi],
                                                 o['betag_range' + suffix], o['betap_range' + suffix],
                                                 noise_range=None)
        pad = (21 - k) // 2
        return torch.FloatTensor(np.pad(kern, ((pad, pad), (pad, pad))))

    def sample(self, img):
        """Dataset __getitem__ (flip, pad, crop, kernels) then feed_data, for one image (BGR float32 HWC)."""
        o = self.opt
        if random.random() < 0.5:
            img = cv2.flip(img, 1)
        h, w = img.shape[:2]
        p = self.crop
        if h < p or w < p:
            img = cv2.copyMakeBorder(img, 0, max(0, p - h), 0, max(0, p - w), cv2.BORDER_REFLECT_101)
        h, w = img.shape[:2]
        if h > p or w > p:
            top, left = random.randint(0, h - p), random.randint(0, w - p)
            img = img[top:top + p, left:left + p, ...]
        k1, k2 = self.kernel(''), self.kernel('2')
        if np.random.uniform() < o['final_sinc_prob']:
            k = random.choice(self.kernel_range)
            sinc = torch.FloatTensor(self.deg.circular_lowpass_kernel(np.random.uniform(np.pi / 3, np.pi), k,
                                                                       pad_to=21))
        else:
            sinc = self.pulse
        gt = torch.from_numpy(np.ascontiguousarray(img[:, :, ::-1].transpose(2, 0, 1))).float().unsqueeze(0)
        return gt, self.degrade(gt, k1[None], k2[None], sinc[None])

    def resize(self, out, prob, rng, **size):
        kind = random.choices(['up', 'down', 'keep'], prob)[0]
        scale = np.random.uniform(1, rng[1]) if kind == 'up' else (
            np.random.uniform(rng[0], 1) if kind == 'down' else 1)
        mode = random.choice(['area', 'bilinear', 'bicubic'])
        if size:
            h, w = size['hw']
            return F.interpolate(out, size=(int(h / 4 * scale), int(w / 4 * scale)), mode=mode)
        return F.interpolate(out, scale_factor=scale, mode=mode)

    def noise(self, out, s):
        o = self.opt
        if np.random.uniform() < o['gaussian_noise_prob' + s]:
            return self.deg.random_add_gaussian_noise_pt(out, sigma_range=o['noise_range' + s], clip=True,
                                                         rounds=False, gray_prob=o['gray_noise_prob' + s])
        return self.deg.random_add_poisson_noise_pt(out, scale_range=o['poisson_scale_range' + s],
                                                    gray_prob=o['gray_noise_prob' + s], clip=True, rounds=False)

    def jpeg(self, out, rng):
        q = out.new_zeros(out.size(0)).uniform_(*rng)
        return self.jpeger(torch.clamp(out, 0, 1), quality=q)

    def degrade(self, gt, k1, k2, sinc):
        o = self.opt
        h, w = gt.shape[2:]
        out = self.ipu.filter2D(self.usm(gt) if self.usm is not None else gt, k1)
        out = self.resize(out, o['resize_prob'], o['resize_range'])
        out = self.noise(out, '')
        out = self.jpeg(out, o['jpeg_range'])
        if np.random.uniform() < o['second_blur_prob']:
            out = self.ipu.filter2D(out, k2)
        out = self.resize(out, o['resize_prob2'], o['resize_range2'], hw=(h, w))
        out = self.noise(out, '2')
        if np.random.uniform() < 0.5:
            out = F.interpolate(out, size=(h // 4, w // 4), mode=random.choice(['area', 'bilinear', 'bicubic']))
            out = self.ipu.filter2D(out, sinc)
            out = self.jpeg(out, o['jpeg_range2'])
        else:
            out = self.jpeg(out, o['jpeg_range2'])
            out = F.interpolate(out, size=(h // 4, w // 4), mode=random.choice(['area', 'bilinear', 'bicubic']))
            out = self.ipu.filter2D(out, sinc)
        lq = torch.clamp((out * 255.0).round(), 0, 255) / 255.
        g = self.gt_size // 4
        top, left = random.randint(0, h // 4 - g), random.randint(0, w // 4 - g)
        return lq[:, :, top:top + g, left:left + g], (top, left)


def stats_of(hr, lr):
    """hr: 3xHxW, lr: 3xhxw, float in [0,1] with 8-bit values. Same formulas as DegradeStatisticsTest."""
    ref = F.interpolate(torch.from_numpy(hr)[None].float(), size=lr.shape[1:], mode='bicubic',
                        align_corners=False)[0].numpy().astype(np.float64)
    ref = np.clip(np.round(ref * 255), 0, 255) / 255
    mse = np.mean((lr.astype(np.float64) - ref) ** 2)
    psnr = 10 * math.log10(1 / max(mse, 1e-12))
    y = 255 * (0.299 * lr[0] + 0.587 * lr[1] + 0.114 * lr[2]).astype(np.float64)
    lap = y[1:-1, :-2] + y[1:-1, 2:] + y[:-2, 1:-1] + y[2:, 1:-1] - 4 * y[1:-1, 1:-1]
    return psnr, float(lap.var())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--basicsr", required=True)
    ap.add_argument("--photo", required=True)
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--gt-size", type=int, default=512)
    ap.add_argument("--preset", choices=["adcsr", "realesrgan"], default="adcsr")
    ap.add_argument("--crop", type=int, default=0, help="crop_pad_size (default: gt-size for adcsr, 400 otherwise)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--stats", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    random.seed(a.seed)
    np.random.seed(a.seed)
    torch.manual_seed(a.seed)
    if a.preset == "adcsr":
        pipe = Pipeline(a.basicsr, ADCSR, a.crop or a.gt_size, a.gt_size)
    else:
        pipe = Pipeline(a.basicsr, REALESRGAN, a.crop or 400, a.gt_size, usm=True)
    img = cv2.imread(a.photo, cv2.IMREAD_COLOR).astype(np.float32) / 255.
    psnrs, sharp = [], []
    t0 = time.time()
    c0 = time.process_time()
    with torch.no_grad():
        for _ in range(a.n):
            gt, (lq, (top, left)) = pipe.sample(img)
            if a.stats:
                g = a.gt_size
                hr = gt[0, :, top * 4:top * 4 + g, left * 4:left * 4 + g].numpy()
                p, s = stats_of(hr, lq[0].numpy())
                psnrs.append(p)
                sharp.append(s)
    dt = time.time() - t0
    cpu = time.process_time() - c0
    if a.stats:
        for name, v in (("psnr_db", np.array(psnrs)), ("lr_laplacian_var", np.array(sharp))):
            q = np.quantile(v, [0.1, 0.25, 0.5, 0.75, 0.9])
            print(f"{name}: n={len(v)} mean={v.mean():.4f} std={v.std():.4f} "
                  f"q10={q[0]:.4f} q25={q[1]:.4f} q50={q[2]:.4f} q75={q[3]:.4f} q90={q[4]:.4f}")
    print(f"reference: {a.n} pairs in {dt:.2f} s = {a.n / dt:.3f} pairs/s ({a.preset}, gt {a.gt_size}, "
          f"{a.threads} threads; {cpu / a.n:.3f} CPU s per pair)")


if __name__ == "__main__":
    main()
