#!/usr/bin/python3
"""Fixture for adcsr-eval's DISTS test: pyiqa's own DISTS module (v0.1.13) on hash-generated weights.

Usage: /usr/bin/python3 tools/eval/make_dists_fixture.py PYIQA_CHECKOUT adcsr-core/src/test/resources/fixtures/dists
torchvision's vgg16 cannot download its ImageNet weights here, so it is built without them and then given the same
hash-generated weights as the LPIPS fixture (make_lpips_fixture.value); alpha and beta are hash-generated too and
written to a small .pth (what DISTS_weights-f5e65c96.pth holds), so the test also reads them through the checkpoint
reader. Writes dists_weights.pth and expected.txt (two pairs of 2x3x64x80 images).
"""
import os
import sys

import torch
import torchvision

sys.path.insert(0, os.path.dirname(__file__))
import reference  # noqa: E402
from make_lpips_fixture import value, scale_of  # noqa: E402


def main(pyiqa_root, out):
    os.makedirs(out, exist_ok=True)
    reference.load_pyiqa(pyiqa_root)
    orig = torchvision.models.vgg16
    torchvision.models.vgg16 = lambda *a, **k: orig()          # no download: random init, replaced below
    from pyiqa.archs.dists_arch import DISTS
    net = DISTS(pretrained=False).eval()
    feats = orig().features.state_dict()
    sd = net.state_dict()
    stage_of = {}
    for name in sd:
        if name.startswith('stage') and not name.endswith('filter'):
            stage_of[name.split('.', 1)[1]] = name              # '0.weight' -> 'stage1.0.weight'
    for k, (name, t) in enumerate(feats.items()):
        sd[stage_of[name]] = value(k, tuple(t.shape), scale_of(name, t.shape))
    weights = {'alpha': value(300, (1, 1475, 1, 1), 1.0) + 0.6, 'beta': value(301, (1, 1475, 1, 1), 1.0) + 0.6}
    sd.update(weights)
    net.load_state_dict(sd)
    torch.save(weights, os.path.join(out, 'dists_weights.pth'))
    x = value(200, (2, 3, 64, 80), 1.0) + 0.5
    y = (0.7 * x + 0.3 * (value(201, (2, 3, 64, 80), 1.0) + 0.5)).clamp(0, 1)
    with torch.no_grad():
        d = net(x, y).flatten()
    with open(os.path.join(out, 'expected.txt'), 'w') as f:
        f.write('# DISTS (pyiqa v0.1.13 DISTS module) of the two pairs of tools/eval/make_dists_fixture.py, torch %s '
                'torchvision %s, float32\n' % (torch.__version__, torchvision.__version__))
        for v in d.tolist():
            f.write(repr(v) + '\n')
    print(d.tolist())


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
