"""Shared writer of the public-set converters: one image + mask + label line at a time, atomically, resumable.

A converter lists :class:`LayoutItem` per split; :func:`write_layout` copies images byte for byte (or writes
a normalized PNG when the source is 16-bit / RGBA), writes masks from a callable, the label files, and a
``conversion.json`` recording the options: a re-run with the same options verifies and keeps finished files,
a run with other options into the same folder is refused.
"""
import json
import os
import os.path as osp
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from mmwsss.utils import atomic_write_bytes, atomic_write_png, atomic_write_text
from .image_normalization import normalize_image
from .layout import ANN_DIR, IMG_DIR, SPLITS, DatasetLayoutError, format_label_line, labels_file, read_image

# EXIF orientation tag value -> the array operation that shows the image upright (the loaders' cv2 IMREAD_COLOR
# applies it, IMREAD_UNCHANGED does not: without normalization image and mask would disagree)
EXIF_ORIENTATION = {
    2: lambda a: a[:, ::-1], 3: lambda a: a[::-1, ::-1], 4: lambda a: a[::-1],
    5: lambda a: np.swapaxes(a, 0, 1), 6: lambda a: np.rot90(a, -1), 7: lambda a: np.rot90(a, 1)[::-1],
    8: lambda a: np.rot90(a, 1)}


def exif_orientation(path: str) -> int:
    """The EXIF orientation tag of a JPEG / TIFF (1 = upright, also when absent or unreadable metadata)."""
    if osp.splitext(path)[1].lower() not in ('.jpg', '.jpeg', '.tif', '.tiff', '.webp'):
        return 1
    from PIL import Image, UnidentifiedImageError
    try:
        with Image.open(path) as im:
            value = int(im.getexif().get(0x0112, 1))
    except (UnidentifiedImageError, OSError, ValueError):  # metadata unreadable: the pixels decide alone
        return 1
    return value if value in EXIF_ORIENTATION else 1


def apply_orientation(array: np.ndarray, orientation: int) -> np.ndarray:
    """``array`` (H, W[, C]) as the EXIF ``orientation`` says it is displayed."""
    return np.ascontiguousarray(EXIF_ORIENTATION[orientation](array)) if orientation in EXIF_ORIENTATION else array


@dataclass
class LayoutItem:
    """One output image. ``mask(shape)`` returns the (H, W) uint8 label mask (0 background, k class k)."""
    src: str
    out_stem: str
    labels: List[int]
    mask: Optional[Callable[[Tuple[int, int]], np.ndarray]] = None


COPY_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp')


@dataclass
class PlacedImage:
    """Where :func:`place_image` put one image: output file name, (H, W), whether a finished file was kept,
    and the normalization note (``None`` when the source was copied byte for byte or reused)."""
    name: str
    shape: Tuple[int, int]
    reused: bool
    normalized: Optional[str] = None
    orientation: int = 1  # EXIF orientation of the source, applied to the output (masks need the same)


def place_image(src: str, img_dir: str, out_stem: str, resume: bool = True) -> PlacedImage:
    """Copy ``src`` into ``img_dir`` as ``out_stem`` + its extension (8-bit PNG/JPEG/BMP, byte for byte), or
    write a normalized 8-bit PNG (16-bit, RGBA, other formats); atomic. With ``resume`` a finished output
    that decodes is kept. Unreadable sources raise :class:`DatasetLayoutError` naming the file. A source with an
    EXIF orientation other than upright is written upright as PNG (no EXIF left to disagree about)."""
    ext = osp.splitext(src)[1].lower()
    orientation = exif_orientation(src)
    candidates = ([out_stem + ext] if ext in COPY_EXTENSIONS else []) + [out_stem + '.png']
    if resume:
        for cand in candidates:
            path = osp.join(img_dir, cand)
            if osp.isfile(path):
                existing = cv2.imread(path, cv2.IMREAD_UNCHANGED)
                if existing is not None:
                    return PlacedImage(cand, existing.shape[:2], reused=True, orientation=orientation)
    img8, note = normalize_image(read_image(src, cv2.IMREAD_UNCHANGED), src)
    if orientation != 1:
        img8 = apply_orientation(img8, orientation)
        note = ', '.join(n for n in (note, f'EXIF orientation {orientation} applied') if n)
    if not note and ext in COPY_EXTENSIONS:
        name = out_stem + ext
        with open(src, 'rb') as f:
            atomic_write_bytes(osp.join(img_dir, name), f.read())
        return PlacedImage(name, img8.shape[:2], reused=False)
    name = out_stem + '.png'
    atomic_write_png(osp.join(img_dir, name), img8)
    return PlacedImage(name, img8.shape[:2], reused=False, normalized=note or f'{ext} -> .png',
                       orientation=orientation)


def carve_split(names: Sequence[str], fraction: float, seed: int) -> Tuple[List[str], List[str]]:
    """Seeded split of sorted ``names`` into ``(rest, carved)`` with ``round(len * fraction)`` carved."""
    names = sorted(names)
    order = np.random.default_rng(seed).permutation(len(names))
    n = int(round(len(names) * fraction))
    carved = {names[i] for i in order[:n]}
    return [x for x in names if x not in carved], [x for x in names if x in carved]


def check_paths(src: str, out_dir: str) -> None:
    """Refuse an output folder inside the source or around it, symlinks resolved (an ``--out`` reached through
    a link into the source tree is still inside it)."""
    src, out = osp.realpath(src), osp.realpath(out_dir)
    if not osp.isdir(src):
        raise DatasetLayoutError(f'source folder not found: {src}')
    for a, b in ((out, src), (src, out)):
        if a == b or a.startswith(b + os.sep):
            raise DatasetLayoutError(f'the output folder {out} and the source {src} must not contain each other '
                                     '(sources are never modified): choose another output folder')


def check_options(out_dir: str, options: dict) -> None:
    path = osp.join(out_dir, 'conversion.json')
    if osp.isfile(path):
        with open(path) as f:
            before = json.load(f).get('options', {})
        changed = sorted(k for k in set(before) | set(options) if before.get(k) != options.get(k))
        if changed:
            raise DatasetLayoutError(
                f'{out_dir} holds a conversion with other options ({", ".join(changed)} differ): choose another '
                'output folder or delete it; a re-run with the same options resumes')


def write_layout(out_dir: str, items: Dict[str, List[LayoutItem]], classes: Sequence[str], options: dict,
                 palette: Sequence[Sequence[int]], progress: bool = False) -> Dict:
    """Write ``items`` (split -> list) into ``out_dir``; returns the report (also ``conversion.json``)."""
    check_options(out_dir, options)
    empty = [s for s in SPLITS if not items.get(s)]
    if empty:
        raise DatasetLayoutError(f'split(s) {empty} would be empty ({ {s: len(items.get(s, [])) for s in SPLITS} }): '
                                 'raise --val-fraction or check the source tree')
    counts = {s: dict(defect_free=0, defective=0) for s in SPLITS}
    written = reused = 0
    normalized = []
    for split in SPLITS:
        seq = items.get(split, [])
        if progress:
            from tqdm import tqdm
            seq = tqdm(seq, desc=f'convert {split}', unit='img')
        lines = []
        for item in seq:
            mask_path = osp.join(out_dir, ANN_DIR, split, item.out_stem + '.png')
            # an image is finished only with its mask: a missing mask rewrites both
            placed = place_image(item.src, osp.join(out_dir, IMG_DIR, split), item.out_stem,
                                 resume=item.mask is None or osp.isfile(mask_path))
            name = placed.name
            if placed.reused:
                reused += 1
            else:
                if placed.normalized:
                    normalized.append(dict(file=item.src, note=placed.normalized))
                if item.mask is not None:
                    atomic_write_png(mask_path, item.mask(placed.shape))
                written += 1
            lines.append(format_label_line(name, item.labels))
            counts[split]['defective' if item.labels else 'defect_free'] += 1
        atomic_write_text(labels_file(out_dir, split), '\n'.join(lines) + '\n')
    info = dict(classes=list(classes), palette=[list(c) for c in palette], counts=counts,
                masks={s: bool(items.get(s)) and all(i.mask is not None for i in items[s]) for s in SPLITS})
    atomic_write_text(osp.join(out_dir, 'dataset_info.json'), json.dumps(info, indent=2))
    report = dict(options=options, classes=list(classes), counts=counts, written=written, reused=reused,
                  normalized=normalized)
    atomic_write_text(osp.join(out_dir, 'conversion.json'), json.dumps(report, indent=2))
    return report


def binary_mask_reader(path: str, cls: int, thr: Optional[int] = None) -> Callable[[Tuple[int, int]], np.ndarray]:
    """A ``mask(shape)`` callable: ``path`` binarized (``>= thr``; default 128, or 1 for 0/1 masks) as class
    ``cls``, checked against the image size."""

    def read(shape: Tuple[int, int]) -> np.ndarray:
        mask = read_image(path, cv2.IMREAD_GRAYSCALE)
        if mask.shape != tuple(shape):
            raise DatasetLayoutError(
                f'mask size {mask.shape[1]}x{mask.shape[0]} differs from its image ({shape[1]}x{shape[0]}): '
                f'{path}')
        cut = thr if thr is not None else (128 if mask.max() > 1 else 1)
        return ((mask >= cut) * cls).astype(np.uint8)

    return read
