#!/usr/bin/python3
"""Fixtures for adcsr-eval's MUSIQ: pyiqa v0.1.13's own MUSIQ module (musiq_arch.py with its
data/multiscale_trans_util.py and matlab_utils/padding.py) on hash-generated weights, end to end from PNG files to the
score; and MUSIQ's key layout.

Usage:
    /usr/bin/python3 tools/eval/make_musiq_fixture.py PYIQA_CHECKOUT \
        adcsr-core/src/test/resources/fixtures/musiq adcsr-eval/src/test/resources/fixtures/musiq
PYIQA_CHECKOUT: chaofengc/IQA-PyTorch at tag v0.1.13 (e.g. `git archive v0.1.13 | tar -x`). Nothing here is shipped
or run by the tool.

Writes, into the core folder:
  keys_koniq.txt  name and shape of every tensor of pyiqa's default `musiq` (MUSIQ(pretrained='koniq10k'): patch 32,
                  hidden 384, MLP 1152, 6 heads, 14 layers, grid 10, 3 scales, 1 output);
  keys_tiny.txt   the same for the small test configuration below (same code, narrower transformer);
and into the eval folder:
  *.png           small crops of adcsr-eval's fixture photos (sizes chosen to exercise the rules: a half-way rounding
                  of a resized side, a downscale to 224, portrait and landscape, gray, padded patches and sequences);
  expected.txt    MUSIQ of those PNGs by pyiqa's module in float64 (the test's reference) and in float32 (information);
  expected_koniq.txt  the same for the first PNG through the full-size default configuration.

pyiqa's unpatched loading path is used: the generated state dict is torch.save'd to a temporary file and given as
MUSIQ(pretrained_model_path=...), which load_pretrained_network reads with torch.load (strict). The images are read as
pyiqa's InferenceModel reads a path (imread2tensor: PIL convert('RGB'), to_tensor).

Generated weights (GeneratedWeights.musiq in Java makes the same): tensor k = seed(name) (sum (i+1)*ord(c) mod
1000003), values value(k, shape, s) of make_lpips_fixture (uniform in [-s/2, s/2)); GroupNorm and LayerNorm weights
1 + value(k, 0.4); Linear weights s = 3.5/sqrt(fan_in); conv weights s = 1 (StdConv standardises them anyway); the
position and scale embeddings and the class token s = 1; everything else (biases) s = 0.4.
"""
import os
import sys
import tempfile
import types
from collections import OrderedDict

import numpy as np
import torch
import torchvision.transforms.functional as TF
from PIL import Image

sys.path.insert(0, os.path.dirname(__file__))
from make_lpips_fixture import value  # noqa: E402

# (patch_size, hidden_size, mlp_dim, num_heads, num_layers, spatial_pos_grid_size, longer_side_lengths, num_class)
KONIQ = (32, 384, 1152, 6, 14, 10, [224, 384], 1)
TINY = (32, 64, 96, 2, 2, 10, [224, 384], 1)
# (output name, source under adcsr-eval's fixtures, box (left, top, right, bottom))
IMAGES = [
    ('musiq/landscape_70x45.png', 'sr/flower.png', (100, 60, 170, 105)),
    ('musiq/half_64x47.png', 'sr/macan.png', (150, 90, 214, 137)),   # 47*224/64 = 164.5: round half to even, 164
    ('musiq/gray_61x97.png', 'sr/gray.png', (20, 40, 81, 137)),      # portrait, gray
    ('musiq/wide_250x90.png', 'sr/bliznaca.png', (10, 50, 260, 140)),  # longer side > 224: a bicubic downscale
]


def seed(name):
    return sum((i + 1) * ord(c) for i, c in enumerate(name)) % 1000003


def generated(name, shape):
    k = seed(name)
    if name.endswith(('gn_root.weight', 'gn1.weight', 'gn2.weight', 'gn3.weight', 'gn_proj.weight',
                      'norm1.weight', 'norm2.weight', 'encoder_norm.weight')):
        return value(k, shape, 0.4) + 1.0
    if name.endswith('.weight') and len(shape) == 2:
        return value(k, shape, 3.5 / np.sqrt(shape[1]))
    if name.endswith('.weight') and len(shape) == 4:
        return value(k, shape, 1.0)
    if name.endswith(('position_emb', 'scale_emb', '.cls')):
        return value(k, shape, 1.0)
    if name == 'head.bias':
        return value(k, shape, 0.4) + 1.0
    return value(k, shape, 0.4)


def load_module(pyiqa_root):
    """pyiqa's musiq_arch under stub parent packages (their __init__ files pull in the whole library)."""
    def stub(name, path=None):
        m = types.ModuleType(name)
        if path:
            m.__path__ = [path]
        sys.modules[name] = m
        return m
    pkg = os.path.join(pyiqa_root, 'pyiqa')
    stub('pyiqa', pkg)
    stub('pyiqa.archs', pkg + '/archs')
    stub('pyiqa.utils', pkg + '/utils')
    stub('pyiqa.data', pkg + '/data')
    mu = stub('pyiqa.matlab_utils', pkg + '/matlab_utils')
    stub('huggingface_hub').hf_hub_url = lambda repo_id, filename: \
        'https://huggingface.co/%s/resolve/main/%s' % (repo_id, filename)
    stub('pyiqa.utils.download_util').load_file_from_url = None        # never called: no download
    import pyiqa.matlab_utils.padding as padding
    mu.ExactPadding2d = padding.ExactPadding2d
    mu.exact_padding_2d = padding.exact_padding_2d
    import pyiqa.archs.musiq_arch as musiq_arch
    return musiq_arch


def model(musiq_arch, cfg, path=None):
    p, hidden, mlp, heads, layers, grid, longer, ncls = cfg
    return musiq_arch.MUSIQ(patch_size=p, num_class=ncls, hidden_size=hidden, mlp_dim=mlp, num_heads=heads,
                            num_layers=layers, spatial_pos_grid_size=grid, longer_side_lengths=longer,
                            pretrained=path is not None, pretrained_model_path=path)


def write_keys(path, sd):
    with open(path, 'w') as f:
        f.write('# name and shape of every tensor of pyiqa v0.1.13 musiq_arch.MUSIQ in this configuration '
                '(tools/eval/make_musiq_fixture.py)\n')
        for k, t in sd.items():
            f.write('%s %s\n' % (k, ' '.join(str(d) for d in t.shape)))


def main(pyiqa_root, core_out, eval_out):
    torch.set_num_threads(1)
    os.makedirs(core_out, exist_ok=True)
    os.makedirs(eval_out, exist_ok=True)
    musiq_arch = load_module(pyiqa_root)
    assert musiq_arch.default_model_urls['koniq10k'] == \
        'https://huggingface.co/chaofengc/IQA-PyTorch-Weights/resolve/main/musiq_koniq_ckpt-e95806b9.pth'

    full = model(musiq_arch, KONIQ)
    # pyiqa's default 'musiq' is MUSIQ(pretrained='koniq10k'): num_class stays 1, the rest are the defaults
    assert full.data_preprocess_opts == {'patch_size': 32, 'patch_stride': 32, 'hse_grid_size': 10,
                                         'longer_side_lengths': [224, 384], 'max_seq_len_from_original_res': -1}
    write_keys(os.path.join(core_out, 'keys_koniq.txt'), full.state_dict())
    layout = model(musiq_arch, TINY).state_dict()
    write_keys(os.path.join(core_out, 'keys_tiny.txt'), layout)

    sd = OrderedDict((k, generated(k, tuple(t.shape))) for k, t in layout.items())
    with tempfile.TemporaryDirectory() as tmp:
        wfile = os.path.join(tmp, 'tiny_musiq.pth')
        torch.save(sd, wfile)
        net = model(musiq_arch, TINY, wfile).eval()

    fixtures = os.path.dirname(os.path.normpath(eval_out))      # adcsr-eval's test fixtures
    rows = []
    for rel, src, box in IMAGES:
        img = Image.open(os.path.join(fixtures, src))
        img.crop(box).save(os.path.join(fixtures, rel), optimize=True)
        x = TF.to_tensor(Image.open(os.path.join(fixtures, rel)).convert('RGB')).unsqueeze(0)   # imread2tensor
        with torch.no_grad():
            s32 = net.float()(x.float()).item()
            s64 = net.double()(x.double()).item()
        rows.append((rel, s64, s32))
    # one image through the full-size default configuration too (14 layers of 6 heads; 27 M generated weights)
    sd = OrderedDict((k, generated(k, tuple(t.shape))) for k, t in full.state_dict().items())
    with tempfile.TemporaryDirectory() as tmp:
        wfile = os.path.join(tmp, 'koniq_layout_musiq.pth')
        torch.save(sd, wfile)
        net = model(musiq_arch, KONIQ, wfile).eval()
    rel = IMAGES[0][0]
    x = TF.to_tensor(Image.open(os.path.join(fixtures, rel)).convert('RGB')).unsqueeze(0)
    with torch.no_grad():
        s32 = net.float()(x.float()).item()
        s64 = net.double()(x.double()).item()
    with open(os.path.join(eval_out, 'expected_koniq.txt'), 'w') as f:
        f.write('# pyiqa v0.1.13 MUSIQ in the full default musiq configuration (hidden 384, 6 heads, 14 layers) with '
                'weights generated as for the tiny one (tools/eval/make_musiq_fixture.py), torch %s\n'
                % torch.__version__)
        f.write('# image (under adcsr-eval test fixtures) float64 float32\n')
        f.write('%s %r %r\n' % (rel, s64, s32))
    print(rel, s64, s32)

    with open(os.path.join(eval_out, 'expected.txt'), 'w') as f:
        f.write('# pyiqa v0.1.13 MUSIQ (default musiq layout and preprocessing; koniq10k: one output) on the tiny '
                'generated MUSIQ of tools/eval/make_musiq_fixture.py, torch %s\n' % torch.__version__)
        f.write('# image (under adcsr-eval test fixtures) float64 float32\n')
        for rel, s64, s32 in rows:
            f.write('%s %r %r\n' % (rel, s64, s32))
    print(rows)


if __name__ == '__main__':
    main(*sys.argv[1:4])
