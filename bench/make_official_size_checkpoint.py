#!/usr/bin/env python3
"""Writes a stand-in for the official net_params_200.pkl (CHECKPOINTS.md §2): the 526 UNet and 26 mid-block tensors
under their `module.body.1.` / `module.body.2.` names, with the shapes of ../shared/reference, random N(0, 0.02)
values, torch.save's zip format, about 1.79 GB. The aliases (same storages) are left out: they add no bytes.
For bench/crc.sh only; the file is not committed.
    /usr/bin/python3 bench/make_official_size_checkpoint.py REFERENCE_DIR OUT.pkl
"""
import collections
import sys

import torch

ref, out = sys.argv[1], sys.argv[2]


def shapes(path):
    for line in open(path):
        name, shape = line.split(' ', 1)
        yield name, [int(d) for d in shape.strip().strip('[]').split(',') if d.strip()]


g = torch.Generator().manual_seed(19)
sd = collections.OrderedDict()
for name, shape in shapes(ref + '/adcsr_unet_keys.txt'):
    sd['module.body.1.' + name] = torch.randn(shape, generator=g) * 0.02
for name, shape in shapes(ref + '/adcsr_half_decoder_keys.txt'):
    if name.startswith('decoder.mid_block.'):
        sd['module.body.2.' + name[len('decoder.mid_block.'):]] = torch.randn(shape, generator=g) * 0.02
torch.save(sd, out)
print(len(sd), 'tensors,', sum(t.numel() for t in sd.values()), 'parameters ->', out)
