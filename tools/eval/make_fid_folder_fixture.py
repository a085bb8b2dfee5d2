#!/usr/bin/python3
"""Fixture for adcsr-eval's end-to-end FID test: pyiqa v0.1.13's own FID "clean" pieces on hash-generated weights.

Usage: /usr/bin/python3 tools/eval/make_fid_folder_fixture.py PYIQA_CHECKOUT adcsr-eval/src/test/resources/fixtures
Writes FIXTURES/fid/folder.txt. Images: FIXTURES/sr/X.png against FIXTURES/gt/X.png for X in IMAGES (8-bit; gray.png
exercises the gray -> RGB conversion). Per folder: pyiqa's ResizeDataset(mode='clean') (PIL float bicubic to 299x299,
clip, (x-128)/128), pyiqa's InceptionV3 with generated weights (make_fid_fixture's, conv weights wider), np.mean / np.cov as pyiqa's
fid_folder does, then pyiqa's frechet_distance (scipy sqrtm). With 4 images the covariances are singular and
pyiqa's sqrtm fails ('Imaginary component'), so the expected figure ('eigh') is the same formula in float64 torch on
the 2048x2048 covariances via symmetric eigen-decompositions; pyiqa's outcome is recorded as a comment. Also written: the same distance in float64 without the offset, from the small Gram matrix
(tr sqrt(S1 S2) = sum of singular values of X1c X2c^T / sqrt((n1-1)(n2-1))), as adcsr-eval computes it.
"""
import contextlib
import io
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
import reference  # noqa: E402
from make_fid_fixture import generated as generated_small, inception  # noqa: E402
from make_lpips_fixture import value  # noqa: E402

IMAGES = ['bliznaca', 'flower', 'gray', 'macan']
CONV_GAIN = 5.0


def generated(name, shape):
    # make_fid_fixture's weights, but conv weights CONV_GAIN/sqrt(fan_in) wide instead of 2/sqrt(fan_in): with the
    # narrower ones the signal dies out over the 90-odd layers and every image gets nearly the same features
    if name.endswith('conv.weight'):
        from make_fid_fixture import seed
        return value(seed(name), shape, CONV_GAIN / (shape[1] * shape[2] * shape[3]) ** 0.5)
    return generated_small(name, shape)


def main(pyiqa_root, fixtures):
    model = inception(pyiqa_root, generated)
    from pyiqa.archs.fid_arch import ResizeDataset, frechet_distance

    def feats(folder):
        ds = ResizeDataset([os.path.join(fixtures, folder, n + '.png') for n in IMAGES], mode='clean')
        batch = torch.stack([ds[i] for i in range(len(ds))])
        with torch.no_grad():
            return model(batch, False, False)[0].squeeze(-1).squeeze(-1).numpy()

    f1, f2 = feats('sr'), feats('gt')
    mu1, s1 = np.mean(f1, axis=0), np.cov(f1, rowvar=False)
    mu2, s2 = np.mean(f2, axis=0), np.cov(f2, rowvar=False)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            fid = repr(float(frechet_distance(mu1, s1, mu2, s2)))
    except ValueError as e:                                     # scipy's sqrtm of the singular product
        fid = 'failed: ' + str(e)
    # the same formula in float64 torch, d x d: tr sqrtm(S1 S2) = sum sqrt(eig(A S2 A)), A = symmetric sqrt of S1
    t1, t2 = torch.from_numpy(s1), torch.from_numpy(s2)
    lam, vec = torch.linalg.eigh(t1)
    a = (vec * lam.clamp(min=0).sqrt()) @ vec.T
    tr_sqrt = torch.linalg.eigvalsh(a @ t2 @ a).clamp(min=0).sqrt().sum().item()
    dm = torch.from_numpy(mu1.astype(np.float64) - mu2.astype(np.float64))
    eig = float(dm @ dm + t1.trace() + t2.trace() - 2 * tr_sqrt)
    x1 = f1.astype(np.float64) - f1.astype(np.float64).mean(0)
    x2 = f2.astype(np.float64) - f2.astype(np.float64).mean(0)
    n1, n2 = len(f1), len(f2)
    d = f1.astype(np.float64).mean(0) - f2.astype(np.float64).mean(0)
    sv = np.linalg.svd(x1 @ x2.T, compute_uv=False)
    gram = float(d @ d + (x1 ** 2).sum() / (n1 - 1) + (x2 ** 2).sum() / (n2 - 1)
                 - 2 * sv.sum() / np.sqrt((n1 - 1) * (n2 - 1)))
    os.makedirs(os.path.join(fixtures, 'fid'), exist_ok=True)
    with open(os.path.join(fixtures, 'fid', 'folder.txt'), 'w') as fh:
        fh.write('# FID of sr/{%s}.png against gt/ (pyiqa v0.1.13 clean mode, generated InceptionV3 weights), '
                 'torch %s\n' % (','.join(IMAGES), torch.__version__))
        fh.write('images ' + ' '.join(IMAGES) + '\n')
        fh.write('# pyiqa frechet_distance: %s\n' % fid)
        fh.write('eigh %r\n' % eig)
        fh.write('gram %r\n' % gram)
        fh.write('feature_sums_sr ' + ' '.join(repr(float(v)) for v in f1.astype(np.float64).sum(1)) + '\n')
        fh.write('feature_sums_gt ' + ' '.join(repr(float(v)) for v in f2.astype(np.float64).sum(1)) + '\n')
    print(fid, eig, gram)


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
