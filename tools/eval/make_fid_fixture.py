#!/usr/bin/python3
"""Fixture for adcsr-eval's FID InceptionV3 test: pyiqa's own InceptionV3 (the pytorch-fid port, v0.1.13) on
hash-generated weights.

Usage: /usr/bin/python3 tools/eval/make_fid_fixture.py PYIQA_CHECKOUT adcsr-core/src/test/resources/fixtures/fid
The published pt_inception-2015-12-05-6726825d.pth cannot be downloaded here (and is 95 MB), so pyiqa's loader is
patched out and every tensor is generated (make_lpips_fixture.value) with a seed from its name; BatchNorm statistics
are kept sane (weight 1 + 0.4v, running_var |v| + 0.5). One 299x299 input in [-1, 1); expected.txt holds its 2048
pool3 features.
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
import reference  # noqa: E402
from make_lpips_fixture import value  # noqa: E402


def seed(name):
    return sum((i + 1) * ord(c) for i, c in enumerate(name)) % 1000003


def generated(name, shape):
    k = seed(name)
    if name.endswith('conv.weight'):
        fan_in = shape[1] * shape[2] * shape[3]
        return value(k, shape, 2.0 / fan_in ** 0.5)
    if name.endswith('bn.weight'):
        return value(k, shape, 0.4) + 1.0
    if name.endswith('bn.running_var'):
        return value(k, shape, 1.0).abs() + 0.5
    return value(k, shape, 0.2)                                 # bn.bias, bn.running_mean


def inception(pyiqa_root, weights):
    """pyiqa's InceptionV3 (FID port, pool3 output) with every weight from weights(name, shape); nothing downloaded."""
    reference.load_pyiqa(pyiqa_root)
    import pyiqa.archs.inception as inc
    inc.load_pretrained_network = lambda *a, **k: None           # no download
    net = inc.fid_inception_v3()
    sd = net.state_dict()
    for name, t in sd.items():
        if name.startswith('fc.') or name.endswith('num_batches_tracked'):
            continue
        sd[name] = weights(name, tuple(t.shape))
    net.load_state_dict(sd)
    inc.fid_inception_v3 = lambda: net
    return inc.InceptionV3(output_blocks=[3], resize_input=False, normalize_input=False).eval()


def main(pyiqa_root, out):
    os.makedirs(out, exist_ok=True)
    model = inception(pyiqa_root, generated)
    x = value(400, (1, 3, 299, 299), 2.0)
    with torch.no_grad():
        f = model(x)[0].flatten()
    with open(os.path.join(out, 'expected.txt'), 'w') as fh:
        fh.write('# pool3 features of pyiqa v0.1.13 InceptionV3 (FID port) on tools/eval/make_fid_fixture.py\'s input, '
                 'torch %s, float32\n' % torch.__version__)
        for v in f.tolist():
            fh.write(repr(v) + '\n')
    print(f.shape, float(f.sum()), float(f.abs().max()))


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
