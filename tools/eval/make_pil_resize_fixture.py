#!/usr/bin/python3
"""Fixture for adcsr-eval's PIL float bicubic resize test (FID "clean" mode resizes each channel this way).

Usage: /usr/bin/python3 tools/eval/make_pil_resize_fixture.py adcsr-eval/src/test/resources/fixtures/pil_resize.txt
Needs Debian's python3-pil. Small float32 arrays in 0-255 (seeded), resized with
Image.fromarray(x, mode='F').resize((W, H), resample=Image.BICUBIC): up, down (antialiased), mixed and one-axis.
Format: '== h w outH outW', then 'in v...' (row-major) and 'out v...'.
"""
import sys

import numpy as np
import PIL
from PIL import Image

CASES = [(7, 5, 13, 11), (13, 17, 5, 4), (9, 6, 4, 15), (8, 8, 8, 3), (6, 10, 21, 10), (23, 19, 64, 50), (31, 29, 12, 9)]


def main(out):
    rng = np.random.default_rng(7)
    with open(out, 'w') as fh:
        fh.write('# PIL %s Image.resize(BICUBIC) of mode F images, numpy %s\n' % (PIL.__version__, np.__version__))
        for h, w, oh, ow in CASES:
            x = (rng.random((h, w)) * 255).astype(np.float32)
            y = np.asarray(Image.fromarray(x, mode='F').resize((ow, oh), resample=Image.BICUBIC))
            assert y.shape == (oh, ow)
            fh.write('== %d %d %d %d\n' % (h, w, oh, ow))
            fh.write('in ' + ' '.join(repr(float(v)) for v in x.ravel()) + '\n')
            fh.write('out ' + ' '.join(repr(float(v)) for v in y.ravel()) + '\n')


if __name__ == '__main__':
    main(sys.argv[1])
