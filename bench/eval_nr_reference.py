#!/usr/bin/python3
"""pyiqa v0.1.13's own CLIPIQA, MUSIQ or MANIQA module on PNG files, for bench/eval-nr.sh (issue 16's speed figures).

Usage: PYIQA=DIR [CLIP=DIR] /usr/bin/python3 bench/eval_nr_reference.py clipiqa|musiq|maniqa THREADS DIR COUNT
PYIQA: chaofengc/IQA-PyTorch at tag v0.1.13; CLIP: openai/CLIP (clipiqa only: its tokenizer and BPE vocabulary).

The modules are loaded from the checkouts with Debian's torch as the fixture scripts of tools/eval/ load them (their
helpers are imported: stub parent packages instead of pyiqa's __init__, which pulls in the whole library; ftfy and
regex stood in for in CLIP's tokenizer, ASCII prompts only; timm's vit_base_patch8_224 and einops.rearrange restated
for MANIQA, see make_maniqa_fixture.py) and built as pyiqa.create_metric builds the default variant, without any
download, on the full-size configuration with the fixture scripts' generated weights (the values GeneratedWeights
gives the Java side, so both sides print the same scores; speed does not depend on the values):
  clipiqa  CLIPIQA() with backbone = a path instead of 'RN50' (pyiqa's clip_model.load() takes a file path): a
           TorchScript archive like RN50.pt (float16 conv/linear/attention weights; input_resolution, context_length,
           vocab_size) of plain modules holding the generated CLIP RN50 tensors (make_clipiqa_fixture.holder_tree),
           which load() reads as it reads RN50.pt: torch.jit.load, build_model(state_dict()), .float() on the CPU.
           (A torch.save file does not work there: after jit.load fails, torch 1.13's torch.load reads on from the
           end of the already-read file.)
  musiq    MUSIQ(pretrained=False) with the KonIQ default sizes (as make_musiq_fixture.KONIQ; num_class 1), then
           load_state_dict(generated, strict=True), which is what pretrained='koniq10k' does after its download.
  maniqa   MANIQA(train_dataset='pipal'), pyiqa's own loading path with load_file_from_url returning a temporary
           torch.save file of the generated state dict (as make_maniqa_fixture.py does).
Each image is read as pyiqa's users' paths are (imread2tensor: PIL .convert('RGB'), to_tensor, unsqueeze) and
scored by net(x) in eval mode under torch.no_grad(), one at a time, after torch.set_num_threads(THREADS) (inter-op 1,
like the Java side). The first image is scored once more before the timing (warm-up), reported apart. Peak RSS while
scoring: VmHWM reset after loading (/proc/self/clear_refs).
Last line: RESULT pyiqa METRIC THREADS IMAGES WARMUP_S TIMED_S IMAGES_PER_S MEAN_SCORE SCORING_PEAK_KB LOAD_S
"""
import gc
import glob
import os
import re
import sys
import tempfile
import time
from collections import OrderedDict

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'tools', 'eval'))

import torch  # noqa: E402
import torchvision.transforms.functional as TF  # noqa: E402
from PIL import Image  # noqa: E402


def build_clipiqa(pyiqa, clip, tmp):
    import make_clipiqa_fixture as f
    clip_model, clipiqa_arch, _ = f.load_modules(pyiqa, clip)
    layout = f.config_model(clip_model, f.RN50).state_dict()
    sd = OrderedDict((k, f.generated(k, tuple(t.shape))) for k, t in layout.items())
    del layout
    for k in sd:                                    # stored as RN50.pt stores them (float16), as the fixture does
        if k.endswith(f.HALF):
            sd[k] = sd[k].half()
    sd['input_resolution'] = torch.tensor(f.RN50[3])
    sd['context_length'] = torch.tensor(f.RN50[4])
    sd['vocab_size'] = torch.tensor(f.RN50[5])
    path = os.path.join(tmp, 'clip_rn50_generated.pt')
    torch.jit.save(torch.jit.script(f.holder_tree(sd)), path)
    del sd
    net = clipiqa_arch.CLIPIQA(backbone=path)       # the default clipiqa: model_type 'clipiqa', pos_embedding False
    assert net.model_type == 'clipiqa' and net.pos_embedding is False
    return net


def build_musiq(pyiqa, tmp):
    import make_musiq_fixture as f
    musiq_arch = f.load_module(pyiqa)
    net = f.model(musiq_arch, f.KONIQ)
    assert net.data_preprocess_opts == {'patch_size': 32, 'patch_stride': 32, 'hse_grid_size': 10,
                                        'longer_side_lengths': [224, 384], 'max_seq_len_from_original_res': -1}
    sd = OrderedDict((k, f.generated(k, tuple(t.shape))) for k, t in net.state_dict().items())
    net.load_state_dict(sd, strict=True)
    return net


def build_maniqa(pyiqa, tmp):
    import make_maniqa_fixture as f
    arch_util, maniqa_arch = f.load_modules(pyiqa, [f.VITB8])
    layout = maniqa_arch.MANIQA(train_dataset='pipal', pretrained=False).state_dict()
    sd = {k: f.generated(k, t) for k, t in layout.items()}
    del layout
    path = os.path.join(tmp, f.WEIGHTS)
    torch.save(sd, path)
    del sd
    arch_util.load_file_from_url = lambda url, model_dir=None, progress=True, file_name=None: path
    net = maniqa_arch.MANIQA(train_dataset='pipal')  # as create_metric('maniqa-pipal'): pretrained, the defaults
    assert net.test_sample == 20 and net.swintransformer1.scale == 0.13
    return net


def status(key):
    try:
        with open('/proc/self/status') as f:
            return int(re.search(key + r':\s+(\d+)', f.read()).group(1))
    except (OSError, AttributeError):
        return -1


def reset_peak():
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
        return True
    except OSError:
        return False


def main(metric, threads, d, count):
    threads, count = int(threads), int(count)
    pyiqa = os.environ.get('PYIQA', '/work/ref/pyiqa')
    clip = os.environ.get('CLIP', '/work/ref/clip')
    torch.set_num_threads(threads)
    torch.set_num_interop_threads(1)
    names = sorted(glob.glob(os.path.join(d, '*.png')))
    if not names:
        sys.exit('no PNG in ' + d)
    count = min(count, len(names))
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        if metric == 'clipiqa':
            net = build_clipiqa(pyiqa, clip, tmp)
        elif metric == 'musiq':
            net = build_musiq(pyiqa, tmp)
        elif metric == 'maniqa':
            net = build_maniqa(pyiqa, tmp)
        else:
            sys.exit('unknown metric ' + metric)
    net = net.eval()
    torch.set_num_threads(threads)                   # the fixture modules set 1 on import
    load = time.perf_counter() - t0
    gc.collect()
    reset = reset_peak()
    rss = status('VmRSS')
    torch.ones(2, 2).matmul(torch.ones(2, 2))       # makes sure the BLAS is loaded before its name is read
    with open('/proc/self/maps') as f:
        blas = sorted({l.split()[-1] for l in f if re.search(r'/lib[^/]*(blas|mkl)[^/]*\.so', l)}) or ['?']

    def score(path):
        x = TF.to_tensor(Image.open(path).convert('RGB')).unsqueeze(0)     # pyiqa's imread2tensor
        with torch.no_grad():
            return net(x).item()

    t0 = time.perf_counter()
    warm_score = score(names[0])
    warm = time.perf_counter() - t0
    print('pyiqa %s %d thread(s): torch %s, BLAS %s; generated weights loaded in %.2f s, RSS after loading %d MB; '
          'warm-up (%s) %.2f s, score %.6f' % (metric, threads, torch.__version__, ' '.join(blas), load, rss // 1024,
                                               os.path.basename(names[0]), warm, warm_score), flush=True)
    total = 0.0
    start = time.perf_counter()
    for n in names[:count]:
        t = time.perf_counter()
        s = score(n)
        total += s
        print('pyiqa %s %d thread(s): %s %.2f s score %.6f' % (metric, threads, os.path.basename(n),
                                                                time.perf_counter() - t, s), flush=True)
    timed = time.perf_counter() - start
    peak = status('VmHWM') if reset else -1
    print('RESULT pyiqa %s %d %d %.3f %.3f %.4f %.6f %d %.2f' % (
        metric, threads, count, warm, timed, count / timed if count else float('nan'),
        total / count if count else warm_score, peak, load))


if __name__ == '__main__':
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    main(*sys.argv[1:])
