"""Convert the published MTD tree into the mmwsss layout.

Source (as published): ``MTD/MT_<Type>/Imgs/<name>.jpg`` + ``<name>.png`` (8-bit mask, anti-aliased;
defect = value >= 128). Output: images copied byte-for-byte, masks binarized at >= 128 and labelled with
the folder's class id (blowhole 1, break 2, crack 3, fray 4, uneven 5; MT_Free all 0), image-level labels
from the folder name. The split is stratified by folder: each folder's sorted file list is shuffled with
``numpy.random.default_rng(seed)`` and cut at ``ratios`` (default 0.7 / 0.1 / 0.2, seed 0).
"""
import os
import os.path as osp
import shutil
from typing import Dict, Sequence, Tuple

import cv2
import numpy as np

from mmwsss.utils import atomic_write_png, atomic_write_text
from .builtin_datasets import MTD_FOLDERS, MTD_FREE_FOLDER
from .layout import ANN_DIR, IMG_DIR, SPLITS, DatasetLayoutError, format_label_line, labels_file, read_image


def split_counts(num: int, ratios: Sequence[float]) -> Tuple[int, int, int]:
    """Cut ``num`` items by ``ratios`` (train, val, test), rounding train/val, test takes the rest."""
    n_train = int(round(num * ratios[0]))
    n_val = int(round(num * ratios[1]))
    n_val = min(n_val, num - n_train)
    return n_train, n_val, num - n_train - n_val


def convert_mtd(src: str, out_dir: str, seed: int = 0, ratios: Sequence[float] = (0.7, 0.1, 0.2),
                progress: bool = False) -> Dict[str, Dict[str, int]]:
    """Convert MTD at ``src`` into ``out_dir``.

    Returns:
        dict split -> {folder: count}.
    """
    if len(ratios) != 3 or any(r < 0 for r in ratios) or abs(sum(ratios) - 1) > 1e-6:
        raise ValueError(f'ratios must be three non-negative numbers summing to 1, got {ratios}')
    if not osp.isdir(src):
        raise DatasetLayoutError(f'MTD root not found: {src} (expected MTD/MT_<Type>/Imgs/)')
    if osp.abspath(out_dir).startswith(osp.abspath(src) + os.sep):
        raise DatasetLayoutError(f'refusing to write inside the source tree: {out_dir}')
    folders = [(MTD_FREE_FOLDER, 0)] + [(f, i + 1) for i, f in enumerate(MTD_FOLDERS)]
    items: Dict[str, list] = {s: [] for s in SPLITS}
    stats: Dict[str, Dict[str, int]] = {s: {} for s in SPLITS}
    for folder, cls in folders:
        img_dir = osp.join(src, folder, 'Imgs')
        if not osp.isdir(img_dir):
            raise DatasetLayoutError(f'MTD folder missing: {img_dir}')
        names = sorted(f for f in os.listdir(img_dir) if f.lower().endswith('.jpg'))
        if not names:
            raise DatasetLayoutError(f'no .jpg images in {img_dir}')
        order = np.random.default_rng(seed).permutation(len(names))
        n_train, n_val, _ = split_counts(len(names), ratios)
        for rank, idx in enumerate(order):
            split = 'train' if rank < n_train else 'val' if rank < n_train + n_val else 'test'
            items[split].append((folder, names[idx], cls))
            stats[split][folder] = stats[split].get(folder, 0) + 1
    for split in SPLITS:
        lines = []
        seq = items[split]
        if progress:
            from tqdm import tqdm
            seq = tqdm(seq, desc=f'MTD {split}', unit='img')
        for folder, name, cls in seq:
            img_path = osp.join(src, folder, 'Imgs', name)
            mask_path = osp.splitext(img_path)[0] + '.png'
            img = read_image(img_path, cv2.IMREAD_GRAYSCALE)
            mask = read_image(mask_path, cv2.IMREAD_GRAYSCALE)
            if mask.shape != img.shape:
                raise DatasetLayoutError(
                    f'mask size {mask.shape[1]}x{mask.shape[0]} differs from image size '
                    f'{img.shape[1]}x{img.shape[0]}: {mask_path}')
            label = ((mask >= 128) * cls).astype(np.uint8)
            out_name = f'{folder}_{name}'
            dst_img = osp.join(out_dir, IMG_DIR, split, out_name)
            os.makedirs(osp.dirname(dst_img), exist_ok=True)
            shutil.copyfile(img_path, dst_img + '.part')
            os.replace(dst_img + '.part', dst_img)
            atomic_write_png(osp.join(out_dir, ANN_DIR, split, osp.splitext(out_name)[0] + '.png'), label)
            lines.append(format_label_line(out_name, [cls] if cls else []))
        atomic_write_text(labels_file(out_dir, split), '\n'.join(lines) + '\n')
    return stats
