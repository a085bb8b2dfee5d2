#!/usr/bin/python3
"""Fixtures for adcsr-eval's MANIQA: pyiqa v0.1.13's own MANIQA module (maniqa_arch.py + maniqa_swin.py, the
`maniqa-pipal` variant AdcSR's evaluate.py creates) on hash-generated weights, end to end from PNG files to the score,
through pyiqa's own loading path; and MANIQA's key layout.

Usage:
    /usr/bin/python3 tools/eval/make_maniqa_fixture.py PYIQA_CHECKOUT \
        adcsr-core/src/test/resources/fixtures/maniqa adcsr-eval/src/test/resources/fixtures/maniqa
PYIQA_CHECKOUT: chaofengc/IQA-PyTorch at tag v0.1.13 (e.g. `git archive v0.1.13 | tar -x`).

pyiqa imports timm and einops, which Debian's python3 lacks here; this script stands in for the few pieces used:
  - timm.create_model('vit_base_patch8_224', pretrained=True) -> VisionTransformer below, a restatement of timm's
    (huggingface/pytorch-image-models v1.0.9, timm/models/vision_transformer.py: PatchEmbed, Attention, Mlp, Block,
    VisionTransformer with class token, learned pos_embed, pre-norm blocks, LayerNorm eps 1e-6, exact GELU, qkv bias,
    final norm and 1000-class head) with the same state_dict keys and order; no pretrained download (pyiqa's checkpoint
    overwrites every ViT tensor: load_state_dict(strict=True));
  - timm.models.layers DropPath (the identity in eval), to_2tuple, trunc_normal_ (initialisation only);
  - einops.rearrange for the five patterns maniqa_arch/maniqa_swin use.
Nothing here is shipped or run by the tool.

Writes, into the core folder:
  keys_vitb8.txt  name and shape of every tensor of MANIQA(maniqa-pipal) with the real ViT-B/8 (width 768, 12 heads);
  keys_tiny.txt   the same for the small test configuration below;
and into the eval folder:
  big.png         a 300x250 synthetic RGB image (larger than 224: crops without upscaling);
  expected.txt    MANIQA of three PNGs by pyiqa's module in float64 (the test's reference) and float32 (information).

The small configuration keeps every size of the code path that the crops fix (224x224 crops, patch 8, 28x28 tokens,
TABlock dim 784, Swin window 4 with shift 2, 2+2 Swin blocks of 4 heads, 2+2 TABlocks, 20 crops), and shrinks the
widths: ViT width 32 with 2 heads and 12 blocks (MLP 128), MANIQA embed_dim 32 (conv1 128->32, conv2 32->16),
dim_mlp 64.

Generated weights (GeneratedWeights.maniqa in Java makes the same): tensor k = seed(name)
(sum (i+1)*ord(c) mod 1000003), value(k, shape, s) of make_lpips_fixture: linear/conv weights s = 2/sqrt(fan_in); LayerNorm weights 1 + 0.4v;
relative_position_bias_table s = 1; fc_score.3.bias 0.5 + 0.2v (keeps the final ReLU mostly open); other biases,
cls_token and pos_embed s = 0.2. The buffers relative_position_index and attn_mask are the module's own values.
"""
import math
import os
import sys
import tempfile
import types

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision.transforms.functional as TF
from PIL import Image

sys.path.insert(0, os.path.dirname(__file__))
from make_lpips_fixture import value  # noqa: E402

torch.set_num_threads(1)
WEIGHTS = 'MANIQA_PIPAL-ae6d356b.pth'
URL = 'https://huggingface.co/chaofengc/IQA-PyTorch-Weights/resolve/main/' + WEIGHTS
# (vit width, vit heads, vit depth, maniqa dim_mlp)
TINY = (32, 2, 12, 64)
VITB8 = (768, 12, 12, 768)
IMAGES = ['sr/flower.png', 'resize/small/gray.png', 'maniqa/big.png']


def seed(name):
    return sum((i + 1) * ord(c) for i, c in enumerate(name)) % 1000003


# ---- timm v1.0.9 vision_transformer, restated (only what vit_base_patch8_224 uses, eval mode) ----

class PatchEmbed(nn.Module):
    def __init__(self, patch, dim):
        super().__init__()
        self.proj = nn.Conv2d(3, dim, kernel_size=patch, stride=patch, bias=True)
        self.norm = nn.Identity()

    def forward(self, x):
        x = self.proj(x)
        x = x.flatten(2).transpose(1, 2)      # NCHW -> NLC
        return self.norm(x)


class Attention(nn.Module):
    def __init__(self, dim, num_heads):
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.scale = self.head_dim ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=True)
        self.q_norm = nn.Identity()
        self.k_norm = nn.Identity()
        self.attn_drop = nn.Dropout(0.)
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(0.)

    def forward(self, x):
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        q, k = self.q_norm(q), self.k_norm(k)
        # timm's fused path (F.scaled_dot_product_attention, torch >= 2) computes the same softmax(q k^T / sqrt(d)) v
        q = q * self.scale
        attn = (q @ k.transpose(-2, -1)).softmax(dim=-1)
        x = attn @ v
        x = x.transpose(1, 2).reshape(B, N, C)
        return self.proj_drop(self.proj(x))


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.drop1 = nn.Dropout(0.)
        self.norm = nn.Identity()
        self.fc2 = nn.Linear(hidden, dim)
        self.drop2 = nn.Dropout(0.)

    def forward(self, x):
        return self.drop2(self.fc2(self.norm(self.drop1(self.act(self.fc1(x))))))


class Block(nn.Module):
    def __init__(self, dim, num_heads, mlp_ratio=4.):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, num_heads)
        self.ls1 = nn.Identity()
        self.drop_path1 = nn.Identity()
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))
        self.ls2 = nn.Identity()
        self.drop_path2 = nn.Identity()

    def forward(self, x):
        x = x + self.drop_path1(self.ls1(self.attn(self.norm1(x))))
        x = x + self.drop_path2(self.ls2(self.mlp(self.norm2(x))))
        return x


class VisionTransformer(nn.Module):
    def __init__(self, img_size=224, patch_size=8, embed_dim=768, depth=12, num_heads=12, num_classes=1000):
        super().__init__()
        self.num_prefix_tokens = 1
        self.patch_embed = PatchEmbed(patch_size, embed_dim)
        n = (img_size // patch_size) ** 2
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.pos_embed = nn.Parameter(torch.randn(1, n + 1, embed_dim) * .02)
        self.pos_drop = nn.Dropout(0.)
        self.patch_drop = nn.Identity()
        self.norm_pre = nn.Identity()
        self.blocks = nn.Sequential(*[Block(embed_dim, num_heads) for _ in range(depth)])
        self.norm = nn.LayerNorm(embed_dim, eps=1e-6)
        self.fc_norm = nn.Identity()
        self.head_drop = nn.Dropout(0.)
        self.head = nn.Linear(embed_dim, num_classes)

    def forward(self, x):
        x = self.patch_embed(x)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1)
        x = self.pos_drop(x + self.pos_embed)
        x = self.norm_pre(self.patch_drop(x))
        x = self.blocks(x)
        x = self.norm(x)
        x = x[:, 0]                              # global_pool 'token'
        return self.head(self.head_drop(self.fc_norm(x)))


class DropPath(nn.Module):
    """timm's DropPath (stochastic depth): the identity outside training, which is all pyiqa runs."""
    def __init__(self, drop_prob=0.):
        super().__init__()
        self.drop_prob = drop_prob

    def forward(self, x):
        assert not self.training
        return x


def rearrange(x, pattern, h=None, w=None):
    """einops.rearrange for the patterns of maniqa_arch.py and maniqa_swin.py."""
    if pattern == 'b (h w) c -> b c (h w)':
        return x.transpose(1, 2)
    if pattern == 'b c (h w) -> b c h w':
        return x.reshape(x.shape[0], x.shape[1], h, w)
    if pattern == 'b c h w -> b c (h w)':
        return x.reshape(x.shape[0], x.shape[1], -1)
    if pattern == 'b c h w -> b (h w) c':
        return x.flatten(2).transpose(1, 2)
    if pattern == 'b (h w) c -> b c h w':
        hh = h if h is not None else x.shape[1] // w
        ww = w if w is not None else x.shape[1] // hh
        return x.transpose(1, 2).reshape(x.shape[0], x.shape[2], hh, ww)
    raise ValueError(pattern)


def load_modules(pyiqa_root, vit_config):
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
    stub('huggingface_hub').hf_hub_url = \
        lambda repo_id, filename: 'https://huggingface.co/%s/resolve/main/%s' % (repo_id, filename)
    stub('tqdm').tqdm = None
    stub('requests')
    stub('pyiqa.utils.download_util').load_file_from_url = None       # replaced per run below
    stub('einops').rearrange = rearrange
    timm = stub('timm', '/nonexistent')
    stub('timm.models', '/nonexistent')
    stub('timm.models.vision_transformer').Block = Block
    layers = stub('timm.models.layers')
    layers.DropPath = DropPath
    layers.to_2tuple = lambda x: tuple(x) if isinstance(x, (tuple, list)) else (x, x)
    layers.trunc_normal_ = nn.init.trunc_normal_

    def create_model(name, pretrained=False):
        assert name == 'vit_base_patch8_224' and pretrained
        width, heads, depth, _ = vit_config[0]
        return VisionTransformer(patch_size=8, embed_dim=width, depth=depth, num_heads=heads)
    timm.create_model = create_model
    import pyiqa.archs.arch_util as arch_util
    import pyiqa.archs.maniqa_arch as maniqa_arch
    return arch_util, maniqa_arch


def generated(name, t):
    if name.endswith(('relative_position_index', 'attn_mask')):
        return t.clone()                                   # the module's own buffers
    k, shape = seed(name), tuple(t.shape)
    if name.endswith('relative_position_bias_table'):
        return value(k, shape, 1.0)
    if name.endswith('fc_score.3.bias'):
        return value(k, shape, 0.2) + 0.5
    if name.endswith('.weight') and t.dim() >= 2:
        return value(k, shape, 2.0 / math.sqrt(int(np.prod(shape[1:]))))
    if name.endswith('.weight'):                           # LayerNorm
        return value(k, shape, 0.4) + 1.0
    return value(k, shape, 0.2)


def write_keys(path, sd, what):
    with open(path, 'w') as f:
        f.write('# name and shape of every tensor of pyiqa v0.1.13 MANIQA (maniqa-pipal) %s '
                '(tools/eval/make_maniqa_fixture.py)\n' % what)
        for k, t in sd.items():
            f.write('%s %s\n' % (k, ' '.join(str(d) for d in t.shape)))


def big_png(path):
    y, x = np.mgrid[0:250, 0:300].astype(np.float64)
    r = 128 + 100 * np.sin(x / 17.0) * np.cos(y / 23.0)
    g = 128 + 90 * np.sin((x + 2 * y) / 31.0)
    b = np.where(((x // 40) + (y // 30)) % 2 == 0, 60.0, 200.0) + 20 * np.cos(x * y / 900.0)
    img = np.clip(np.stack([r, g, b], -1).round(), 0, 255).astype(np.uint8)
    Image.fromarray(img, 'RGB').save(path, optimize=True)


def main(pyiqa_root, core_out, eval_out):
    os.makedirs(core_out, exist_ok=True)
    os.makedirs(eval_out, exist_ok=True)
    vit_config = [VITB8]
    arch_util, maniqa_arch = load_modules(pyiqa_root, vit_config)
    assert maniqa_arch.default_model_urls['pipal'] == URL, maniqa_arch.default_model_urls['pipal']

    def build(cfg, path):
        vit_config[0] = cfg
        seen = []

        def fetch(url, model_dir=None, progress=True, file_name=None):
            seen.append(url)
            return path
        arch_util.load_file_from_url = fetch
        # as pyiqa.create_metric('maniqa-pipal') builds it: MANIQA(train_dataset='pipal'), pretrained=True, the
        # module defaults (scale 0.13, test_sample 20, ...), here with the small widths of cfg
        kw = {} if cfg == VITB8 else dict(embed_dim=cfg[0], dim_mlp=cfg[3])
        net = maniqa_arch.MANIQA(train_dataset='pipal', **kw)
        return net, seen

    sizes = {}
    # build without loading to read the layouts
    for cfg, fname in ((VITB8, 'keys_vitb8.txt'), (TINY, 'keys_tiny.txt')):
        vit_config[0] = cfg
        kw = {} if cfg == VITB8 else dict(embed_dim=cfg[0], dim_mlp=cfg[3])
        net = maniqa_arch.MANIQA(train_dataset='pipal', pretrained=False, **kw)
        write_keys(os.path.join(core_out, fname), net.state_dict(),
                   'with the real ViT-B/8' if cfg == VITB8 else 'in the small test configuration')
        sizes[cfg] = net.state_dict()
        del net

    layout = sizes[TINY]
    sd = {k: generated(k, t) for k, t in layout.items()}
    big_png(os.path.join(eval_out, 'big.png'))
    fixtures = os.path.dirname(os.path.normpath(eval_out))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        wfile = os.path.join(tmp, WEIGHTS)
        torch.save(sd, wfile)
        net, seen = build(TINY, wfile)          # pyiqa's unpatched path: URL -> file -> torch.load -> strict load
    assert seen == [URL], seen
    net = net.eval()
    assert net.test_sample == 20 and net.swintransformer1.scale == 0.13
    for k, t in net.state_dict().items():
        assert torch.equal(t, sd[k]), k
    for rel in IMAGES:
        x = TF.to_tensor(Image.open(os.path.join(fixtures, rel)).convert('RGB')).unsqueeze(0)   # imread2tensor
        with torch.no_grad():
            s32 = net(x.float()).item()
            net.double()
            s64 = net(x.double()).item()
            net.float()
        rows.append((rel, x.shape[3], x.shape[2], s64, s32))
        print(rows[-1], flush=True)
    with open(os.path.join(eval_out, 'expected.txt'), 'w') as f:
        f.write('# pyiqa v0.1.13 MANIQA (maniqa-pipal: scale 0.13, 20 uniform 224x224 crops) on the small generated '
                'network of tools/eval/make_maniqa_fixture.py, torch %s\n' % torch.__version__)
        f.write('# image (under adcsr-eval test fixtures) width height float64 float32\n')
        for rel, w, h, s64, s32 in rows:
            f.write('%s %d %d %r %r\n' % (rel, w, h, s64, s32))


if __name__ == '__main__':
    main(*sys.argv[1:4])
