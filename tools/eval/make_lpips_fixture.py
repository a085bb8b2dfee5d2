#!/usr/bin/python3
"""Fixture for adcsr-eval's LPIPS network test: deterministic pseudo-random weights, two image pairs, expected scores.

Reference architectures: torchvision's alexnet and vgg16 (Debian python3-torchvision), the LPIPS v0.1 head written here from its
definition (METRICS.md §3): scaling layer, relu1..relu5 taps, unit-normalise over channels (eps 1e-10), squared
difference, 1x1 "lin" conv without bias, spatial mean, sum over layers.
The backbone weights (2.5 M and 14.7 M values) are not committed: both this script and the Java test generate them with the same
integer hash (value() below), in torchvision's key order. The lin heads are written as a real torch .pth (small), so
the test also reads them through the checkpoint reader.
Usage: /usr/bin/python3 tools/eval/make_lpips_fixture.py adcsr-core/src/test/resources/fixtures/lpips
"""
import math
import os
import sys

import numpy as np
import torch
import torchvision

BACKBONES = {  # torchvision constructor, LPIPS tap after these features indices, tap channels
    'alex': (torchvision.models.alexnet, (1, 4, 7, 9, 11), [64, 192, 384, 256, 256]),
    'vgg': (torchvision.models.vgg16, (3, 8, 15, 22, 29), [64, 128, 256, 512, 512]),
}


def value(k, shape, scale):
    """Element i of tensor number k: (fmix32(i*2654435761 + k*40503 mod 2^32) / 2^32 - 0.5) * scale, as float32;
    fmix32 is MurmurHash3's finaliser (all arithmetic mod 2^32)."""
    n = int(np.prod(shape))
    m = np.uint64(0xffffffff)
    h = (np.arange(n, dtype=np.uint64) * np.uint64(2654435761) + np.uint64(k * 40503)) & m
    h ^= h >> np.uint64(16)
    h = (h * np.uint64(0x85ebca6b)) & m
    h ^= h >> np.uint64(13)
    h = (h * np.uint64(0xc2b2ae35)) & m
    h ^= h >> np.uint64(16)
    v = (h.astype(np.float64) / 4294967296.0 - 0.5) * scale
    return torch.from_numpy(v.astype(np.float32).reshape(shape))


def scale_of(name, shape):
    if name.endswith('.bias'):
        return 0.2
    fan_in = int(np.prod(shape[1:]))
    return 2.0 / math.sqrt(fan_in)


def lpips(features, taps_at, heads, x, y):
    shift = torch.tensor([-.030, -.088, -.188]).view(1, 3, 1, 1)
    scale = torch.tensor([.458, .448, .450]).view(1, 3, 1, 1)

    def taps(img):
        h = (img * 2 - 1 - shift) / scale
        out = []
        for i, layer in enumerate(features):
            h = layer(h)
            if i in taps_at:
                out.append(h)
        return out

    total = 0
    for k, (a, b) in enumerate(zip(taps(x), taps(y))):
        na = a / (torch.sqrt(torch.sum(a ** 2, dim=1, keepdim=True)) + 1e-10)
        nb = b / (torch.sqrt(torch.sum(b ** 2, dim=1, keepdim=True)) + 1e-10)
        d = torch.nn.functional.conv2d((na - nb) ** 2, heads['lin%d.model.1.weight' % k])
        total = total + d.mean(dim=[2, 3], keepdim=True)
    return total.flatten()


def main(out):
    os.makedirs(out, exist_ok=True)
    for kind, (ctor, taps_at, channels) in BACKBONES.items():
        net = ctor().eval()
        sd = {}
        for k, (name, t) in enumerate(net.features.state_dict().items()):
            sd[name] = value(k, tuple(t.shape), scale_of(name, t.shape))
        net.features.load_state_dict(sd)
        heads = {}
        for j, c in enumerate(channels):
            heads['lin%d.model.1.weight' % j] = value(100 + j, (1, c, 1, 1), 2.0 / c).abs()
        suffix = '' if kind == 'alex' else '_' + kind
        torch.save(heads, os.path.join(out, 'lin_heads%s.pth' % suffix))
        x = value(200, (2, 3, 64, 80), 1.0) + 0.5                     # in [0, 1)
        y = (0.7 * x + 0.3 * (value(201, (2, 3, 64, 80), 1.0) + 0.5)).clamp(0, 1)
        with torch.no_grad():
            d = lpips(net.features, taps_at, heads, x, y)
        with open(os.path.join(out, 'expected%s.txt' % suffix), 'w') as f:
            f.write('# LPIPS (%s, v0.1 head) of the two pairs of tools/eval/make_lpips_fixture.py, torch %s '
                    'torchvision %s, float32\n' % (kind, torch.__version__, torchvision.__version__))
            for v in d.tolist():
                f.write(repr(v) + '\n')
        print(kind, d.tolist())


if __name__ == '__main__':
    main(sys.argv[1])
