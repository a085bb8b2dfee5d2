#!/usr/bin/python3
"""Fixtures for adcsr-eval's CLIPIQA: pyiqa v0.1.13's own CLIPIQA module (clipiqa_arch.py + clip_model.py) on
hash-generated weights, end to end from PNG files to the score; CLIP's token ids of pyiqa's prompts; CLIP's key
layout; and a tiny TorchScript archive for the reader.

Usage:
    /usr/bin/python3 tools/eval/make_clipiqa_fixture.py PYIQA_CHECKOUT CLIP_CHECKOUT \
        adcsr-core/src/test/resources/fixtures/clipiqa adcsr-eval/src/test/resources/fixtures/clipiqa
PYIQA_CHECKOUT: chaofengc/IQA-PyTorch at tag v0.1.13 (e.g. `git archive v0.1.13 | tar -x`).
CLIP_CHECKOUT: openai/CLIP (what the `openai-clip` package that pyiqa requires packages): its
clip/simple_tokenizer.py and clip/bpe_simple_vocab_16e6.txt.gz give the token ids. That tokenizer imports ftfy and
regex, which Debian's python3 lacks here; for pyiqa's plain-ASCII prompts ftfy.fix_text is the identity and the only
regex features used (\\p{L}, \\p{N}) are replaced by their ASCII equivalents, which select the same characters.
Nothing here is shipped or run by the tool.

Writes, into the core folder:
  tokens.txt      clip.tokenize() of CLIPIQA's ten prompts (the non-zero prefix of each 77-long row);
  keys_rn50.txt   name and shape of every tensor of CLIP RN50 (pyiqa's CLIP(...) with build_model's RN50 config);
  keys_tiny.txt   the same for the small test configuration below;
  torchscript_tiny.pt  torch.jit.save of a scripted pyiqa Bottleneck (stride 2, so with the "-1" avg-pool
                  downsample), float16 weights from half_value(): the container layout of OpenAI's RN50.pt
                  (data.pkl with __torch__ classes, constants.pkl, compressed code/ entries, data/ storages);
and into the eval folder expected.txt: CLIPIQA of three PNGs of adcsr-eval's fixtures, by pyiqa's module in float64
(the test's reference) and in float32 (for information).

Generated weights (GeneratedWeights.clip in Java makes the same): tensor k = seed(name) (Σ (i+1)·ord(c) mod 1000003).
pyiqa's build_model rounds conv/linear/attention weights and text_projection to float16 (convert_weights) before
model.float(), as the published file holds them; so those are drawn from half_value(), which is exact in float16:
((fmix32 hash >> 21) − 1024) · 2^(e−11), e = 2 − ⌊bit_length(fan_in)/2⌋ (about 4/√fan_in) for weights and −6 for biases. BatchNorm,
LayerNorm, embeddings and logit_scale stay float32 in pyiqa and are drawn from value() (make_lpips_fixture):
norm weights 1 + 0.4v, running_var |v| + 0.5, token and positional embeddings 0.2v, the rest 0.2v;
logit_scale = float32(ln 100), as in the published model.
"""
import math
import os
import re
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

PROMPTS = ['Good image', 'bad image', 'Sharp image', 'blurry image', 'sharp edges', 'blurry edges',
           'High resolution image', 'low resolution image', 'Noise-free image', 'noisy image']
# the small test configuration: (vision_layers, vision_width, embed_dim, image_resolution, context_length,
# vocab_size, transformer_width, transformer_layers); heads follow CLIP's rules (width*32//64, width//64)
TINY = ((1, 2, 1, 1), 8, 32, 224, 77, 49408, 128, 2)
RN50 = ((3, 4, 6, 3), 64, 1024, 224, 77, 49408, 512, 12)
IMAGES = ['sr/flower.png', 'resize/small/macan.png', 'resize/small/gray.png']


def seed(name):
    return sum((i + 1) * ord(c) for i, c in enumerate(name)) % 1000003


def half_value(k, shape, e):
    """((fmix32 hash of element i of tensor k) >> 21) - 1024, times 2^(e-11): 11-bit integers on a power-of-two grid,
    exact in float16 for e >= -13. Same hash as make_lpips_fixture.value."""
    n = int(np.prod(shape))
    m = np.uint64(0xffffffff)
    h = (np.arange(n, dtype=np.uint64) * np.uint64(2654435761) + np.uint64(k * 40503)) & m
    h ^= h >> np.uint64(16)
    h = (h * np.uint64(0x85ebca6b)) & m
    h ^= h >> np.uint64(13)
    h = (h * np.uint64(0xc2b2ae35)) & m
    h ^= h >> np.uint64(16)
    v = ((h >> np.uint64(21)).astype(np.float64) - 1024.0) * 2.0 ** (e - 11)
    return torch.from_numpy(v.astype(np.float32).reshape(shape))


HALF = ('conv1.weight', 'conv2.weight', 'conv3.weight', 'downsample.0.weight', '_proj.weight', '_proj.bias',
        'in_proj_weight', 'in_proj_bias', 'out_proj.weight', 'out_proj.bias', 'c_fc.weight', 'c_fc.bias',
        'c_proj.weight', 'c_proj.bias', 'text_projection')


def generated(name, shape):
    k = seed(name)
    if name == 'logit_scale':
        return torch.tensor(math.log(100), dtype=torch.float32)
    if name.endswith(HALF):
        if name.endswith('bias'):
            return half_value(k, shape, -6)
        fan_in = int(shape[0] if name == 'text_projection' else np.prod(shape[1:]))
        return half_value(k, shape, 2 - fan_in.bit_length() // 2)
    if name.endswith('num_batches_tracked'):
        return torch.zeros(shape, dtype=torch.long)
    if name.endswith('running_var'):
        return value(k, shape, 1.0).abs() + 0.5
    if name.endswith(('bn1.weight', 'bn2.weight', 'bn3.weight', 'downsample.1.weight', 'ln_1.weight', 'ln_2.weight',
                      'ln_final.weight')):
        return value(k, shape, 0.4) + 1.0
    return value(k, shape, 0.2)


def load_modules(pyiqa_root, clip_root):
    """pyiqa's clipiqa_arch and clip_model under stub parent packages, with `clip` = openai/CLIP's tokenizer."""
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
    stub('huggingface_hub').hf_hub_url = lambda *a, **k: ''
    stub('tqdm').tqdm = None           # only used while downloading
    stub('requests')
    stub('pyiqa.utils.download_util').load_file_from_url = None        # never called: no download
    # openai/CLIP's tokenizer, with ftfy and regex stood in for (ASCII prompts only, see the docstring)
    stub('ftfy').fix_text = lambda s: s
    rx = stub('regex')
    rx.IGNORECASE = re.IGNORECASE
    rx.sub = re.sub
    rx.findall = re.findall
    rx.compile = lambda p, f=0: re.compile(p.replace(r'[\p{L}]+', r'[^\W\d_]+').replace(r'[\p{N}]', r'\d')
                                           .replace(r'[^\s\p{L}\p{N}]+', r'(?:[^\s\w]|_)+'), f)
    sys.path.insert(0, os.path.join(clip_root, 'clip'))
    import simple_tokenizer
    assert all(ord(c) < 128 for p in PROMPTS for c in p)
    tok = simple_tokenizer.SimpleTokenizer(os.path.join(clip_root, 'clip', 'bpe_simple_vocab_16e6.txt.gz'))

    def tokenize(texts, context_length=77, truncate=False):   # clip.tokenize, as in clip/clip.py (torch >= 1.8)
        if isinstance(texts, str):
            texts = [texts]
        sot, eot = tok.encoder['<|startoftext|>'], tok.encoder['<|endoftext|>']
        rows = [[sot] + tok.encode(t) + [eot] for t in texts]
        out = torch.zeros(len(rows), context_length, dtype=torch.int)
        for i, r in enumerate(rows):
            assert len(r) <= context_length
            out[i, :len(r)] = torch.tensor(r)
        return out
    stub('clip').tokenize = tokenize
    import pyiqa.archs.clip_model as clip_model
    import pyiqa.archs.clipiqa_arch as clipiqa_arch
    return clip_model, clipiqa_arch, tokenize


def config_model(clip_model, cfg):
    layers, width, embed, res, ctx, vocab, tw, tl = cfg
    return clip_model.CLIP(embed, res, layers, width, None, ctx, vocab, tw, tw // 64, tl)


def write_keys(path, sd):
    with open(path, 'w') as f:
        f.write('# name and shape of every tensor of pyiqa v0.1.13 clip_model.CLIP in this configuration '
                '(tools/eval/make_clipiqa_fixture.py)\n')
        for k, t in sd.items():
            f.write('%s %s\n' % (k, ' '.join(str(d) for d in t.shape)))


class Holder(torch.nn.Module):
    """A scriptable module that only holds tensors."""
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


def holder_tree(sd):
    """Nested Holder modules whose state_dict is sd (integer tensors as buffers, the rest as parameters)."""
    root = Holder()
    for k, t in sd.items():
        *path, leaf = k.split('.')
        m = root
        for p in path:
            if p not in m._modules:
                m.add_module(p, Holder())
            m = m._modules[p]
        if t.is_floating_point():
            m.register_parameter(leaf, torch.nn.Parameter(t, requires_grad=False))
        else:
            m.register_buffer(leaf, t)
    return root


def torchscript_fixture(clip_model, path):
    block = clip_model.Bottleneck(8, 4, stride=2).eval()
    sd = block.state_dict()
    for k, t in sd.items():
        if k.endswith('num_batches_tracked'):
            continue
        sd[k] = half_value(seed(k), tuple(t.shape), -1)
    block.load_state_dict(sd)
    scripted = torch.jit.script(block.half())
    torch.jit.save(scripted, path)
    return sd


def main(pyiqa_root, clip_root, core_out, eval_out):
    os.makedirs(core_out, exist_ok=True)
    os.makedirs(eval_out, exist_ok=True)
    clip_model, clipiqa_arch, tokenize = load_modules(pyiqa_root, clip_root)

    tokens = tokenize(PROMPTS)
    with open(os.path.join(core_out, 'tokens.txt'), 'w') as f:
        f.write('# clip.tokenize (openai/CLIP simple_tokenizer, bpe_simple_vocab_16e6) of the ten prompts of pyiqa '
                'v0.1.13 CLIPIQA, zeros after <|endoftext|> left out\n')
        for p, row in zip(PROMPTS, tokens.tolist()):
            f.write('%s\t%s\n' % (p, ' '.join(str(t) for t in row if t != 0)))

    write_keys(os.path.join(core_out, 'keys_rn50.txt'), config_model(clip_model, RN50).state_dict())
    layout = config_model(clip_model, TINY).state_dict()
    write_keys(os.path.join(core_out, 'keys_tiny.txt'), layout)
    torchscript_fixture(clip_model, os.path.join(core_out, 'torchscript_tiny.pt'))

    # pyiqa's own loading path, unpatched: CLIPIQA(backbone=<file>) -> clip_model.load(file, 'cpu') ->
    # torch.jit.load -> build_model(model.state_dict()) (float16 rounding of convert_weights) -> model.float().
    # The file is a TorchScript archive like RN50.pt (which also holds input_resolution, context_length and
    # vocab_size), of plain modules that only hold the tensors; not committed (the token embedding alone is 25 MB).
    sd = OrderedDict((k, generated(k, tuple(t.shape))) for k, t in layout.items())
    for k in sd:
        if k.endswith(HALF):
            sd[k] = sd[k].half()
    sd['input_resolution'] = torch.tensor(TINY[3])
    sd['context_length'] = torch.tensor(TINY[4])
    sd['vocab_size'] = torch.tensor(TINY[5])
    with tempfile.TemporaryDirectory() as tmp:
        wfile = os.path.join(tmp, 'tiny_clip.pt')
        torch.jit.save(torch.jit.script(holder_tree(sd)), wfile)
        net = clipiqa_arch.CLIPIQA(backbone=wfile).eval()
    assert net.model_type == 'clipiqa' and net.pos_embedding is False
    assert torch.equal(net.prompt_pairs, tokens)
    fixtures = os.path.dirname(os.path.normpath(eval_out))      # adcsr-eval's test fixtures
    rows = []
    for rel in IMAGES:
        x = TF.to_tensor(Image.open(os.path.join(fixtures, rel)).convert('RGB')).unsqueeze(0)   # imread2tensor
        with torch.no_grad():
            s32 = net(x.float()).item()
            # the float64 reference: clip_model.LayerNorm casts its input to float32 (for fp16 models; a no-op in
            # float32), which a float64 run cannot take, so for this run it is plain nn.LayerNorm
            fp16_guard = clip_model.LayerNorm.forward
            clip_model.LayerNorm.forward = torch.nn.LayerNorm.forward
            s64 = net(x.double()).item()
            clip_model.LayerNorm.forward = fp16_guard
        rows.append((rel, s64, s32))
    with open(os.path.join(eval_out, 'expected.txt'), 'w') as f:
        f.write('# pyiqa v0.1.13 CLIPIQA (default clipiqa: RN50 layout, pos_embedding=False, 5 prompt pairs) on the '
                'tiny generated CLIP of tools/eval/make_clipiqa_fixture.py, torch %s\n' % torch.__version__)
        f.write('# image (under adcsr-eval test fixtures) float64 float32\n')
        for rel, s64, s32 in rows:
            f.write('%s %r %r\n' % (rel, s64, s32))
    print(rows)


if __name__ == '__main__':
    main(*sys.argv[1:5])
