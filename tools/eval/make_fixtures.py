#!/usr/bin/python3
"""Writes the adcsr-eval test fixtures: small crops of real photos (GT) and degraded copies (SR).

Run with Debian's python3 (numpy, Pillow, python3-opencv), from the repository root:
    /usr/bin/python3 tools/eval/make_fixtures.py adcsr-eval/src/test/resources/fixtures
Sources (see fixtures/NOTICE.md): libjxl-testdata wesaturate/500px (CC0), jxl/flower/flower.png (BSD-3-Clause).
Deterministic: fixed crops, PIL bicubic, numpy seed 5.
"""
import os
import sys

import cv2
import numpy as np
from PIL import Image

SRC = '/usr/share/libjxl-testdata'
CROPS = [  # name, file, top, left (crops are 192x288: 2x3 NIQE blocks)
    ('macan', SRC + '/external/wesaturate/500px/cvo9xd_keong_macan_srgb8.png', 150, 100),
    ('ria', SRC + '/external/wesaturate/500px/tmshre_riaphotographs_srgb8.png', 200, 180),
    ('bliznaca', SRC + '/external/wesaturate/500px/u76c0g_bliznaca_srgb8.png', 60, 40),
    ('flower', SRC + '/jxl/flower/flower.png', 700, 1000),
]
H, W = 192, 288


def degrade(gt, rng, noise):
    """x4 bicubic down and up (PIL), optional Gaussian noise: a plausible blurry SR output."""
    im = Image.fromarray(gt)
    lr = im.resize((W // 4, H // 4), Image.BICUBIC)
    sr = np.asarray(lr.resize((W, H), Image.BICUBIC)).astype(np.float64)
    if noise:
        sr += rng.normal(0, noise, sr.shape)
    return np.clip(np.round(sr), 0, 255).astype(np.uint8)


def main(out):
    os.makedirs(os.path.join(out, 'gt'), exist_ok=True)
    os.makedirs(os.path.join(out, 'sr'), exist_ok=True)
    rng = np.random.default_rng(5)
    for i, (name, path, top, left) in enumerate(CROPS):
        img = np.asarray(Image.open(path).convert('RGB'))[top:top + H, left:left + W]
        sr = degrade(img, rng, noise=[0, 3, 0, 6][i])
        Image.fromarray(img).save(os.path.join(out, 'gt', name + '.png'), optimize=True)
        Image.fromarray(sr).save(os.path.join(out, 'sr', name + '.png'), optimize=True)
    # gray (8-bit, one channel): the grayscale version of the first photo
    gray = np.asarray(Image.open(SRC + '/external/wesaturate/500px/cvo9xd_keong_macan_grayscale.png').convert('L'))
    gray = gray[150:150 + H, 100:100 + W]
    Image.fromarray(gray).save(os.path.join(out, 'gt', 'gray.png'), optimize=True)
    sr = np.asarray(Image.fromarray(gray).resize((W // 4, H // 4), Image.BICUBIC).resize((W, H), Image.BICUBIC))
    Image.fromarray(sr).save(os.path.join(out, 'sr', 'gray.png'), optimize=True)
    # 16-bit RGB: a 96x144 corner of the flower pair widened to 16 bits with seeded low-order bits
    gt8 = np.asarray(Image.open(os.path.join(out, 'gt', 'flower.png')))
    sr8 = np.asarray(Image.open(os.path.join(out, 'sr', 'flower.png')))
    for d, a in (('gt', gt8[:96, :144]), ('sr', sr8[:96, :144])):
        v = a.astype(np.uint32) * 257 + rng.integers(-128, 129, a.shape)
        v = np.clip(v, 0, 65535).astype(np.uint16)
        cv2.imwrite(os.path.join(out, d, 'flower16.png'), v[..., ::-1])  # cv2 wants BGR


if __name__ == '__main__':
    main(sys.argv[1])
