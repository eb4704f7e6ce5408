"""Convert KolektorSDD2 (Božič, Tabernik and Skočaj 2021) into the mmwsss layout.

Source layout::

    KolektorSDD2/{train,test}/<NNNNN>.png       colour images (about 230x630)
    KolektorSDD2/{train,test}/<NNNNN>_GT.png    masks: defect > 0 (binarized at >= 128, or >= 1 for 0/1 masks)

One defect class (``defect``); an image whose mask is empty is defect-free. ``train`` is split into train /
val (``val_fraction`` of the defect-free and of the defective images, seeded); ``test`` stays test.
"""
import os
import os.path as osp
import re
from typing import Dict

import cv2

from .builtin_datasets import KSDD2_CLASSES, KSDD2_PALETTE
from .layout import DatasetLayoutError, read_image
from .layout_writer import LayoutItem, binary_mask_reader, carve_split, check_paths, write_layout

IMAGE_NAME = re.compile(r'^(\d+)\.png$', re.IGNORECASE)


def convert_ksdd2(src: str, out_dir: str, val_fraction: float = 0.1, seed: int = 0, progress: bool = False) -> Dict:
    """Convert KolektorSDD2 at ``src`` into ``out_dir``; returns the report (see :func:`write_layout`)."""
    if not 0 <= val_fraction < 1:
        raise ValueError(f'val_fraction must be in [0, 1), got {val_fraction}')
    check_paths(src, out_dir)
    items = dict(train=[], val=[], test=[])
    for split in ('train', 'test'):
        folder = osp.join(src, split)
        if not osp.isdir(folder):
            raise DatasetLayoutError(f'KolektorSDD2 folder missing: {folder} (expected {{train,test}}/NNNNN.png + '
                                     'NNNNN_GT.png)')
        names = sorted(f for f in os.listdir(folder) if IMAGE_NAME.match(f))
        if not names:
            raise DatasetLayoutError(f'no NNNNN.png images in {folder}')
        entries = {}
        for name in names:
            stem = osp.splitext(name)[0]
            gt = osp.join(folder, f'{stem}_GT.png')
            if not osp.isfile(gt):
                raise DatasetLayoutError(f'mask missing for {osp.join(folder, name)}: expected {gt}')
            mask = read_image(gt, cv2.IMREAD_GRAYSCALE)
            defective = bool((mask >= (128 if mask.max() > 1 else 1)).any())
            entries[name] = LayoutItem(osp.join(folder, name), f'{split}_{stem}', [1] if defective else [],
                                       binary_mask_reader(gt, 1))
        if split == 'test':
            items['test'] = [entries[n] for n in names]
            continue
        for group in ([n for n in names if entries[n].labels], [n for n in names if not entries[n].labels]):
            rest, val = carve_split(group, val_fraction, seed)
            items['train'] += [entries[n] for n in rest]
            items['val'] += [entries[n] for n in val]
    options = dict(dataset='ksdd2', src=osp.abspath(src), val_fraction=val_fraction, seed=seed)
    return write_layout(out_dir, items, KSDD2_CLASSES, options, KSDD2_PALETTE, progress)
