#!/usr/bin/python3
"""Fixtures for the PIL resize tests (adcsr-core's PilResize, adcsr-eval's --resize-sr).

Usage: c=adcsr-core/src/test/resources/fixtures/images
       /usr/bin/python3 tools/eval/make_pil_resize_fixture.py $c/pil_resize.txt $c/pil_resize_8bit.txt \
           adcsr-eval/src/test/resources/fixtures
Needs Debian's python3-pil.

pil_resize.txt (FID "clean" mode resizes each channel this way): small float32 arrays in 0-255 (seeded), resized with
Image.fromarray(x, mode='F').resize((W, H), resample=Image.BICUBIC): up, down (antialiased), mixed and one-axis.
Format: '== h w outH outW', then 'in v...' (row-major) and 'out v...'.

pil_resize_8bit.txt (adcsr-eval --resize-sr, as OSEDiff's test script resizes with PIL): uint8 L and RGB images
(seeded noise, which overshoots and clips, and a smooth ramp), Image.resize((W, H), BICUBIC or LANCZOS).
Format: '== filter mode h w outH outW', then 'in v...' and 'out v...' (row-major, RGB interleaved).

resize/ (adcsr-eval --resize-sr end to end): sr/macan.png (RGB) and sr/gray.png (L) shrunk by PIL to 284x188
(resize/small/, as OSEDiff's script crops sizes to multiples of 8 with LANCZOS), and those resized back to the GT's
288x192 by PIL with BICUBIC (resize/bicubic/) and LANCZOS (resize/lanczos/).
"""
import os
import sys

import numpy as np
import PIL
from PIL import Image

CASES = [(7, 5, 13, 11), (13, 17, 5, 4), (9, 6, 4, 15), (8, 8, 8, 3), (6, 10, 21, 10), (23, 19, 64, 50), (31, 29, 12, 9)]


CASES_8BIT = [(7, 5, 13, 11), (13, 17, 5, 4), (9, 6, 4, 15), (8, 8, 8, 3), (6, 10, 21, 10), (31, 29, 12, 9),
              (20, 16, 20, 16)]


def main_8bit(out):
    rng = np.random.default_rng(8)
    with open(out, 'w') as fh:
        fh.write('# PIL %s Image.resize of uint8 L and RGB images, numpy %s\n' % (PIL.__version__, np.__version__))
        for name, f in (('bicubic', Image.BICUBIC), ('lanczos', Image.LANCZOS)):
            for i, (h, w, oh, ow) in enumerate(CASES_8BIT):
                for mode in ('L', 'RGB'):
                    shape = (h, w) if mode == 'L' else (h, w, 3)
                    if i % 2 == 0:
                        x = rng.integers(0, 256, shape, dtype=np.uint8)
                    else:
                        ramp = np.add.outer(np.arange(h) * 7, np.arange(w) * 5) % 256
                        x = (ramp if mode == 'L' else np.stack([ramp, 255 - ramp, ramp // 2], -1)).astype(np.uint8)
                    y = np.asarray(Image.fromarray(x, mode=mode).resize((ow, oh), resample=f))
                    assert y.shape[:2] == (oh, ow)
                    fh.write('== %s %s %d %d %d %d\n' % (name, mode, h, w, oh, ow))
                    fh.write('in ' + ' '.join(str(int(v)) for v in x.ravel()) + '\n')
                    fh.write('out ' + ' '.join(str(int(v)) for v in y.ravel()) + '\n')


def main_images(fixtures):
    for name in ('macan.png', 'gray.png'):
        sr = Image.open('%s/sr/%s' % (fixtures, name))
        small = sr.resize((284, 188), resample=Image.LANCZOS)
        for sub, img in (('small', small), ('bicubic', small.resize(sr.size, resample=Image.BICUBIC)),
                         ('lanczos', small.resize(sr.size, resample=Image.LANCZOS))):
            d = '%s/resize/%s' % (fixtures, sub)
            os.makedirs(d, exist_ok=True)
            img.save('%s/%s' % (d, name))


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
    if len(sys.argv) > 2:
        main_8bit(sys.argv[2])
    if len(sys.argv) > 3:
        main_images(sys.argv[3])
