#!/usr/bin/python3
"""Fixture for adcsr-eval's Frechet distance test: Gaussian statistics and pyiqa's frechet_distance of them.

Usage: /usr/bin/python3 tools/eval/make_frechet_fixture.py PYIQA_CHECKOUT adcsr-eval/src/test/resources/fixtures/frechet.txt
Cases (32 features): 'full' from 400 samples per side (well conditioned); 'few' from 12 samples per side, so both
covariances have rank 11 and the product is singular (scipy's sqrtm of it is not finite, so pyiqa adds 1e-6 to both
diagonals; adcsr-eval needs no offset, so its figure differs by the offset's effect).
Format: '== case name', then lines 'mu1 ...', 'sigma1 ...' (row-major), 'mu2 ...', 'sigma2 ...', 'fid value'.
"""
import io
import sys
import contextlib

import numpy as np

sys.path.insert(0, __import__('os').path.dirname(__file__))
import reference  # noqa: E402


def stats(x):
    return x.mean(axis=0), np.cov(x, rowvar=False)


def main(pyiqa_root, out):
    reference.load_pyiqa(pyiqa_root)
    from pyiqa.archs.fid_arch import frechet_distance
    rng = np.random.default_rng(11)
    d = 32
    mix = rng.normal(size=(d, d)) / np.sqrt(d)
    cases = {}
    for name, n in (('full', 400), ('few', 12)):
        a = rng.normal(size=(n, d)) @ mix
        b = (rng.normal(size=(n, d)) * 1.3 + 0.2) @ mix
        mu1, s1 = stats(a)
        mu2, s2 = stats(b)
        with contextlib.redirect_stdout(io.StringIO()):
            fid = float(frechet_distance(mu1, s1, mu2, s2))
        cases[name] = (mu1, s1, mu2, s2, fid)
    with open(out, 'w') as f:
        f.write('# made by tools/eval/make_frechet_fixture.py with pyiqa v0.1.13 frechet_distance (scipy %s)\n'
                % __import__('scipy').__version__)
        for name, (mu1, s1, mu2, s2, fid) in cases.items():
            f.write('== %s\n' % name)
            for label, arr in (('mu1', mu1), ('sigma1', s1), ('mu2', mu2), ('sigma2', s2)):
                f.write(label + ' ' + ' '.join(repr(float(v)) for v in np.ravel(arr)) + '\n')
            f.write('fid %r\n' % fid)
            print(name, fid)


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
