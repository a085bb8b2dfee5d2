#!/usr/bin/python3
"""Reference figures for adcsr-eval's exactness test, computed by BasicSR's and pyiqa's own code.

Usage (Debian python3 with numpy, scipy, torch, python3-opencv, python3-torchvision, python3-tqdm, python3-yaml):
    /usr/bin/python3 tools/eval/reference.py BASICSR_CHECKOUT PYIQA_CHECKOUT FIXTURES > expected.csv
BASICSR_CHECKOUT: XPixelGroup/BasicSR (tested at 8d56e3a) with basicsr/version.py present (setup.py writes it).
PYIQA_CHECKOUT: chaofengc/IQA-PyTorch at tag v0.1.13. Its package __init__ pulls in optional dependencies
(timm, huggingface_hub, ...), so the three metric modules are imported directly under stub parent packages.
Nothing here is shipped or run by the tool; the CSV it prints is the test's expectation.

Inputs, as adcsr-eval defines them: 8-bit samples v; 16-bit samples v enter as v/65535 (float32) in the 0-1
pipelines and as v/257 (float32) in BasicSR's 0-255 pipeline; gray is replicated to RGB.
"""
import csv
import glob
import os
import sys
import types

import cv2
import numpy as np
import torch


def load_basicsr(root):
    sys.path.insert(0, root)
    from basicsr.metrics.psnr_ssim import calculate_psnr, calculate_ssim
    from basicsr.metrics.niqe import calculate_niqe
    return calculate_psnr, calculate_ssim, calculate_niqe


def load_pyiqa(root):
    def stub(name, path=None):
        m = types.ModuleType(name)
        if path:
            m.__path__ = [path]
        sys.modules[name] = m
        return m
    pkg = os.path.join(root, 'pyiqa')
    stub('pyiqa', pkg)
    stub('pyiqa.archs', pkg + '/archs')
    stub('pyiqa.utils', pkg + '/utils')
    stub('huggingface_hub').hf_hub_url = lambda *a, **k: ''   # only used to build download URLs
    from pyiqa.utils.color_util import to_y_channel
    sys.modules['pyiqa.utils'].to_y_channel = to_y_channel
    from pyiqa.archs.psnr_arch import PSNR
    from pyiqa.archs.ssim_arch import SSIM
    from pyiqa.archs.niqe_arch import calculate_niqe
    return PSNR, SSIM, calculate_niqe


def read(path):
    a = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if a.ndim == 2:
        a = np.stack([a] * 3, axis=-1)
    a = a[..., :3]  # BGR, alpha dropped
    if a.dtype == np.uint16:
        bgr255 = a.astype(np.float32) / np.float32(257)
        unit = torch.from_numpy(a[..., ::-1].copy().astype(np.float32)).div(65535)
    else:
        bgr255 = a
        unit = torch.from_numpy(a[..., ::-1].copy()).float().div(255)   # torchvision ToTensor
    return bgr255, unit.permute(2, 0, 1).unsqueeze(0).contiguous()


def pyiqa_psnr_exact_mean(x, y, test_y_channel, crop, to_y_channel):
    """pyiqa's psnr with the float32 mse rounded once from its exact (float64) mean. torch's own float32 sum depends
    on the thread count (1 and 4 threads give one value, 2 and 8 another, one float32 ulp apart: about 2e-6 dB at
    30 dB), so this is the thread-independent figure that adcsr-eval reproduces to 1e-6 dB."""
    if crop:
        x = x[..., crop:-crop, crop:-crop]
        y = y[..., crop:-crop, crop:-crop]
    if test_y_channel:
        x = to_y_channel(x, 1.0, 'ycbcr')
        y = to_y_channel(y, 1.0, 'ycbcr')
    mse = ((x - y) ** 2).double().mean(dim=[1, 2, 3]).float()
    return 10 * torch.log10(1.0 / (mse + 1e-8))


def main(basicsr_root, pyiqa_root, fixtures):
    b_psnr, b_ssim, b_niqe = load_basicsr(basicsr_root)
    PSNR, SSIM, p_niqe = load_pyiqa(pyiqa_root)
    from pyiqa.utils.color_util import to_y_channel
    params = np.load(os.path.join(basicsr_root, 'basicsr/metrics/niqe_pris_params.npz'))
    mu = torch.from_numpy(params['mu_pris_param']).reshape(1, 36)
    cov = torch.from_numpy(params['cov_pris_param'])
    w = csv.writer(sys.stdout, lineterminator='\n')
    w.writerow(['image', 'column', 'value'])
    for sr_path in sorted(glob.glob(os.path.join(fixtures, 'sr', '*.png'))):
        name = os.path.basename(sr_path)
        gt_path = os.path.join(fixtures, 'gt', name)
        sb, su = read(sr_path)
        gb, gu = read(gt_path)
        rows = {}
        with torch.no_grad():
            for crop in (0, 4):
                sfx = '' if crop == 0 else '_crop4'
                rows['psnr_y_pyiqa' + sfx] = PSNR(test_y_channel=True, color_space='ycbcr', crop_border=crop)(su, gu)
                rows['psnr_y_pyiqa_exactmean' + sfx] = pyiqa_psnr_exact_mean(su, gu, True, crop, to_y_channel)
                rows['psnr_rgb_pyiqa_exactmean' + sfx] = pyiqa_psnr_exact_mean(su, gu, False, crop, to_y_channel)
                rows['ssim_y_pyiqa' + sfx] = SSIM(test_y_channel=True, color_space='ycbcr', crop_border=crop)(su, gu)
                rows['psnr_rgb_pyiqa' + sfx] = PSNR(test_y_channel=False, crop_border=crop)(su, gu)
                rows['ssim_rgb_pyiqa' + sfx] = SSIM(test_y_channel=False, crop_border=crop)(su, gu)
                rows['psnr_y_basicsr' + sfx] = b_psnr(sb, gb, crop, test_y_channel=True)
                rows['ssim_y_basicsr' + sfx] = b_ssim(sb, gb, crop, test_y_channel=True)
                rows['psnr_rgb_basicsr' + sfx] = b_psnr(sb, gb, crop, test_y_channel=False)
                rows['ssim_rgb_basicsr' + sfx] = b_ssim(sb, gb, crop, test_y_channel=False)
                if min(sb.shape[:2]) - 2 * crop >= 96:   # NIQE needs one whole 96x96 block
                    rows['niqe_pyiqa' + sfx] = p_niqe(su, crop, color_space='yiq', mu_pris_param=mu,
                                                      cov_pris_param=cov)
                    rows['niqe_basicsr' + sfx] = b_niqe(sb, crop, input_order='HWC', convert_to='y')
        for k, v in rows.items():
            v = float(v.item() if torch.is_tensor(v) else v)
            w.writerow([name, k, repr(v)])


if __name__ == '__main__':
    main(*sys.argv[1:4])
