#!/usr/bin/env python3
"""Writes a zero-filled stand-in for SD2.1-base in the diffusers layout: DIR/unet/ and DIR/vae/
diffusion_pytorch_model.safetensors with the real key names and shapes (from the reference key lists) and sparse
data (holes), so it costs almost no disk. For examples and benchmarks of adcsr-prune when the real weights
(withdrawn from the Hub) are not at hand. Standard library only.

usage: sd21_standin.py DIR [--fp16] [--dense]

--dense writes real data instead of holes (a repeated block of seeded values in (-1, 1)), so that reading costs what
reading real weights costs (3.5 GB of disk for fp32).
"""
import json
import os
import random
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REF = os.path.join(HERE, "..", "..", "adcsr-prune", "src", "test", "resources", "fixtures", "reference")


def keys(name):
    out = []
    with open(os.path.join(REF, name)) as f:
        for line in f:
            line = line.strip()
            if line:
                key, shape = line.split(" ", 1)
                out.append((key, json.loads(shape)))
    return out


def write(path, tensors, dtype, size, dense):
    header = {}
    offset = 0
    for key, shape in tensors:
        n = 1
        for d in shape:
            n *= d
        header[key] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + n * size]}
        offset += n * size
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        if dense:
            rnd = random.Random(0)
            fmt = "<e" if size == 2 else "<f"
            block = b"".join(struct.pack(fmt, rnd.uniform(-1, 1)) for _ in range((1 << 20) // size))
            left = offset
            while left > 0:
                f.write(block[:min(left, len(block))])
                left -= len(block)
        else:
            f.truncate(8 + len(h) + offset)


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    half = "--fp16" in argv[2:]
    dense = "--dense" in argv[2:]
    dtype, size = ("F16", 2) if half else ("F32", 4)
    for part, ref in (("unet", "sd21_unet_keys.txt"), ("vae", "sd_vae_keys.txt")):
        write(os.path.join(argv[1], part, "diffusion_pytorch_model.safetensors"), keys(ref), dtype, size, dense)


if __name__ == "__main__":
    main(sys.argv)
