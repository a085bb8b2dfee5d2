#!/usr/bin/python3
"""Times BasicSR's and pyiqa's CPU code for PSNR + SSIM + NIQE on the pairs in DIR/sr and DIR/gt.

Usage: /usr/bin/python3 bench/eval_reference_speed.py BASICSR_CHECKOUT PYIQA_CHECKOUT DIR [THREADS]
Reads each image as each reference's users do (cv2.imread for BasicSR; PIL + ToTensor for pyiqa), reading included.
Prints one line per reference: name, images, seconds, images/s, mean PSNR/SSIM/NIQE.
"""
import glob
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'tools', 'eval'))
import reference  # noqa: E402  (the loaders of tools/eval/reference.py)

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402


def main(basicsr_root, pyiqa_root, d, threads=None):
    if threads:
        torch.set_num_threads(int(threads))
        cv2.setNumThreads(int(threads))
    b_psnr, b_ssim, b_niqe = reference.load_basicsr(basicsr_root)
    PSNR, SSIM, p_niqe = reference.load_pyiqa(pyiqa_root)
    import warnings
    warnings.filterwarnings('ignore', category=RuntimeWarning)   # BasicSR's AGGD on blocks with one empty side
    params = np.load(os.path.join(basicsr_root, 'basicsr/metrics/niqe_pris_params.npz'))
    mu = torch.from_numpy(params['mu_pris_param']).reshape(1, 36)
    cov = torch.from_numpy(params['cov_pris_param'])
    names = sorted(os.path.basename(p) for p in glob.glob(os.path.join(d, 'sr', '*.png')))

    t = time.perf_counter()
    s = np.zeros(3)
    for n in names:
        sr = cv2.imread(os.path.join(d, 'sr', n))
        gt = cv2.imread(os.path.join(d, 'gt', n))
        s += [b_psnr(sr, gt, 0, test_y_channel=True), b_ssim(sr, gt, 0, test_y_channel=True),
              b_niqe(sr, 0, input_order='HWC', convert_to='y')]
    dt = time.perf_counter() - t
    print('basicsr  images %d  seconds %.2f  images/s %.2f  mean psnr %.4f ssim %.4f niqe %.4f'
          % (len(names), dt, len(names) / dt, *(s / len(names))))

    def tensor(path):
        a = np.asarray(Image.open(path).convert('RGB'))
        return torch.from_numpy(a.copy()).permute(2, 0, 1).float().div(255).unsqueeze(0)

    psnr, ssim = PSNR(test_y_channel=True, color_space='ycbcr'), SSIM(test_y_channel=True, color_space='ycbcr')
    t = time.perf_counter()
    s = np.zeros(3)
    with torch.no_grad():
        for n in names:
            sr = tensor(os.path.join(d, 'sr', n))
            gt = tensor(os.path.join(d, 'gt', n))
            s += [psnr(sr, gt).item(), ssim(sr, gt).item(),
                  p_niqe(sr, 0, color_space='yiq', mu_pris_param=mu, cov_pris_param=cov).item()]
    dt = time.perf_counter() - t
    print('pyiqa    images %d  seconds %.2f  images/s %.2f  mean psnr %.4f ssim %.4f niqe %.4f'
          % (len(names), dt, len(names) / dt, *(s / len(names))))


if __name__ == '__main__':
    main(*sys.argv[1:])
