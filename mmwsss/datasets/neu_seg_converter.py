"""Convert NEU-Seg (hot-rolled steel strip surface defects, pixel-annotated) into the mmwsss layout.

Source layout::

    NEU_Seg/images/{training,test}/<name>.jpg          200x200 grayscale
    NEU_Seg/annotations/{training,test}/<name>.png     0 background, 1 inclusion, 2 patches, 3 scratches

Image-level labels are the classes present in each mask (an image may carry several). NEU-Seg has no
defect-free images, so the classifier is multi-label over the defect types only (the pipeline config sets
``require_defect_free = False``). ``training`` is split into train / val (``val_fraction``, seeded);
``test`` stays test.
"""
import os
import os.path as osp
from typing import Dict

import cv2
import numpy as np

from .builtin_datasets import NEU_SEG_CLASSES, NEU_SEG_PALETTE
from .layout import DatasetLayoutError, read_image
from .layout_writer import LayoutItem, carve_split, check_paths, write_layout

SOURCE_SPLITS = dict(training='train', test='test')


def _mask_reader(path: str, num_classes: int):
    def read(shape):
        mask = read_image(path, cv2.IMREAD_GRAYSCALE)
        if mask.shape != tuple(shape):
            raise DatasetLayoutError(f'mask size {mask.shape[1]}x{mask.shape[0]} differs from its image '
                                     f'({shape[1]}x{shape[0]}): {path}')
        return mask
    return read


def _labels_of(path: str, num_classes: int):
    mask = read_image(path, cv2.IMREAD_GRAYSCALE)
    values = np.unique(mask)
    if values.max() >= num_classes:
        raise DatasetLayoutError(f'NEU-Seg mask {path} holds values {values.tolist()} outside 0..{num_classes - 1} '
                                 '(0 background, 1 inclusion, 2 patches, 3 scratches)')
    return [int(v) for v in values if v > 0]


def convert_neu_seg(src: str, out_dir: str, val_fraction: float = 0.1, seed: int = 0, progress: bool = False) -> Dict:
    """Convert NEU-Seg at ``src`` into ``out_dir``; returns the report (see :func:`write_layout`)."""
    if not 0 <= val_fraction < 1:
        raise ValueError(f'val_fraction must be in [0, 1), got {val_fraction}')
    check_paths(src, out_dir)
    num_classes = len(NEU_SEG_CLASSES)
    items = dict(train=[], val=[], test=[])
    for source_split, split in SOURCE_SPLITS.items():
        img_dir = osp.join(src, 'images', source_split)
        ann_dir = osp.join(src, 'annotations', source_split)
        for folder in (img_dir, ann_dir):
            if not osp.isdir(folder):
                raise DatasetLayoutError(f'NEU-Seg folder missing: {folder} (expected images/{{training,test}}/*.jpg '
                                         'and annotations/{training,test}/*.png)')
        names = sorted(f for f in os.listdir(img_dir) if f.lower().endswith('.jpg'))
        if not names:
            raise DatasetLayoutError(f'no .jpg images in {img_dir}')
        entries = {}
        for name in names:
            mask_path = osp.join(ann_dir, osp.splitext(name)[0] + '.png')
            if not osp.isfile(mask_path):
                raise DatasetLayoutError(f'annotation missing for {osp.join(img_dir, name)}: expected {mask_path}')
            entries[name] = LayoutItem(osp.join(img_dir, name), f'{source_split}_{osp.splitext(name)[0]}',
                                       _labels_of(mask_path, num_classes), _mask_reader(mask_path, num_classes))
        if split == 'train':
            rest, val = carve_split(names, val_fraction, seed)
            items['train'] = [entries[n] for n in rest]
            items['val'] = [entries[n] for n in val]
        else:
            items['test'] = [entries[n] for n in names]
    options = dict(dataset='neu_seg', src=osp.abspath(src), val_fraction=val_fraction, seed=seed)
    return write_layout(out_dir, items, NEU_SEG_CLASSES, options, NEU_SEG_PALETTE, progress)
