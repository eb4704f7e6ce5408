"""Convert DAGM 2007 (weakly labelled textures, ten classes) into the mmwsss layout.

Source layout::

    DAGM/Class<N>/{Train,Test}/<NNNN>.PNG                  512x512 grayscale
    DAGM/Class<N>/{Train,Test}/Label/Labels.txt            "<no> <defective 0/1> <image> 0 [<label image>]"
    DAGM/Class<N>/{Train,Test}/Label/<NNNN>_label.PNG      weak ellipse mask of a defective image

Class ``N`` keeps id ``N`` (``class1`` .. ``class10``, whichever folders are present); defect-free images of
every class are defect-free. The ellipse masks are coarse (they over-cover the defect): they serve to
evaluate and for the fully supervised reference, as in the literature. ``Train`` is split into train / val
(``val_fraction`` per class and defective / defect-free, seeded); ``Test`` stays test.
"""
import os
import os.path as osp
import re
from typing import Dict, List, Tuple

from .builtin_datasets import DAGM_CLASSES, DAGM_PALETTE
from .layout import DatasetLayoutError
from .layout_writer import LayoutItem, binary_mask_reader, carve_split, check_paths, write_layout

CLASS_FOLDER = re.compile(r'^Class(\d+)$')


def read_dagm_labels(path: str) -> Dict[str, Tuple[bool, str]]:
    """``Labels.txt`` -> {image file: (defective, label file or '')}; a first line holding one number is a
    header."""
    if not osp.isfile(path):
        raise DatasetLayoutError(f'DAGM label list missing: {path}')
    out = {}
    with open(path, encoding='utf-8', errors='replace') as f:
        for lineno, line in enumerate(f, 1):
            fields = line.split()
            if not fields or (lineno == 1 and len(fields) == 1):
                continue
            if len(fields) < 3 or fields[1] not in ('0', '1'):
                raise DatasetLayoutError(f'{path}:{lineno}: expected "<no> <0|1> <image> 0 [<label image>]", '
                                         f'got {line.strip()!r}')
            out[fields[2]] = (fields[1] == '1', fields[4] if len(fields) > 4 else '')
    return out


def convert_dagm(src: str, out_dir: str, val_fraction: float = 0.1, seed: int = 0, progress: bool = False) -> Dict:
    """Convert DAGM 2007 at ``src`` into ``out_dir``; returns the report (see :func:`write_layout`)."""
    if not 0 <= val_fraction < 1:
        raise ValueError(f'val_fraction must be in [0, 1), got {val_fraction}')
    check_paths(src, out_dir)
    found = sorted((int(m.group(1)), d) for d in os.listdir(src) if (m := CLASS_FOLDER.match(d)))
    if not found:
        raise DatasetLayoutError(f'no Class<N> folders in {src} (expected DAGM/Class1/Train/...)')
    bad = [d for n, d in found if not 1 <= n < len(DAGM_CLASSES)]
    if bad:
        raise DatasetLayoutError(f'DAGM has Class1..Class{len(DAGM_CLASSES) - 1}; unexpected folders {bad} in {src}')
    items: Dict[str, List[LayoutItem]] = dict(train=[], val=[], test=[])
    for cls, folder in found:
        for source_split, split in (('Train', 'train'), ('Test', 'test')):
            img_dir = osp.join(src, folder, source_split)
            if not osp.isdir(img_dir):
                raise DatasetLayoutError(f'DAGM folder missing: {img_dir}')
            label_dir = osp.join(img_dir, 'Label')
            listed = read_dagm_labels(osp.join(label_dir, 'Labels.txt'))
            names = sorted(f for f in os.listdir(img_dir) if f.lower().endswith('.png'))
            entries = {}
            for name in names:
                if name not in listed:
                    raise DatasetLayoutError(f'{osp.join(img_dir, name)} is not listed in '
                                             f'{osp.join(label_dir, "Labels.txt")}')
                defective, label_name = listed[name]
                label_path = osp.join(label_dir, label_name or f'{osp.splitext(name)[0]}_label.PNG')
                if defective and not osp.isfile(label_path):
                    raise DatasetLayoutError(f'{osp.join(img_dir, name)} is listed as defective but its mask '
                                             f'{label_path} is missing')
                stem = f'{folder}_{source_split}_{osp.splitext(name)[0]}'
                mask = binary_mask_reader(label_path, cls) if defective else _empty_mask
                entries[name] = LayoutItem(osp.join(img_dir, name), stem, [cls] if defective else [], mask)
            if split == 'test':
                items['test'] += [entries[n] for n in names]
                continue
            for group in ([n for n in names if entries[n].labels], [n for n in names if not entries[n].labels]):
                rest, val = carve_split(group, val_fraction, seed)
                items['train'] += [entries[n] for n in rest]
                items['val'] += [entries[n] for n in val]
    options = dict(dataset='dagm', src=osp.abspath(src), val_fraction=val_fraction, seed=seed,
                   classes=[n for n, _ in found])
    return write_layout(out_dir, items, DAGM_CLASSES, options, DAGM_PALETTE, progress)


def _empty_mask(shape):
    import numpy as np
    return np.zeros(shape, np.uint8)
