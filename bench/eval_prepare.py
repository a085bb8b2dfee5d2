#!/usr/bin/python3
"""Makes 512x512 GT/SR pairs for bench/eval.sh from real photos (not committed: written under bench/out/).

GT: 512x512 tiles of Debian's lomiri-wallpapers-16.04 photos (CC0/CC-BY, downscaled by 2 with PIL area first);
SR: the tile x4 bicubic down and up (PIL). Usage: /usr/bin/python3 bench/eval_prepare.py OUT_DIR COUNT
"""
import os
import sys

from PIL import Image

PHOTOS = ['seeding_by_Clements_Engelhardt.jpg', 'sunset_by_Aitzol_Berasategi.jpg',
          'picosdeeuropa_by_Aitzol_Berasategi.jpg', 'aitzgorri_by_Aitzol_Berasategi.jpg',
          'life_by_Aitzol_Berasategi.jpg', 'Picture_0B_by_freespace.jpg']


def main(out, count):
    os.makedirs(os.path.join(out, 'gt'), exist_ok=True)
    os.makedirs(os.path.join(out, 'sr'), exist_ok=True)
    n = 0
    for photo in PHOTOS:
        im = Image.open(os.path.join('/usr/share/backgrounds', photo)).convert('RGB')
        im = im.resize((im.width // 2, im.height // 2), Image.BOX)
        for top in range(0, im.height - 511, 512):
            for left in range(0, im.width - 511, 512):
                if n == count:
                    return
                gt = im.crop((left, top, left + 512, top + 512))
                sr = gt.resize((128, 128), Image.BICUBIC).resize((512, 512), Image.BICUBIC)
                name = '%03d.png' % n
                gt.save(os.path.join(out, 'gt', name))
                sr.save(os.path.join(out, 'sr', name))
                n += 1


if __name__ == '__main__':
    main(sys.argv[1], int(sys.argv[2]))
