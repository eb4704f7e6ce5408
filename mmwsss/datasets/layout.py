"""The on-disk layout every mmwsss dataset uses, and its validation.

::

    DATA_ROOT/
      img_dir/{train,val,test}/<name>.<ext>     images
      ann_dir/{train,val,test}/<stem>.png       masks: 0 = background, k = defect class k (evaluation /
                                                fully supervised only; never read for weak training)
      image_labels/{train,val,test}.txt         image-level labels, one line per image:
                                                "<name>.<ext>\\t<k1>,<k2>"  (empty after the tab = defect-free)

Class ids are the segmentation ids (1..K for K defect types). Classifiers use ``k - 1``.
"""
import os.path as osp
from typing import Dict, List, Sequence, Tuple

import cv2
import numpy as np

IMG_DIR = 'img_dir'
ANN_DIR = 'ann_dir'
LABEL_DIR = 'image_labels'
SPLITS = ('train', 'val', 'test')


class DatasetLayoutError(ValueError):
    """Raised when data on disk does not follow the layout; the message names the path and the fix."""


def labels_file(data_root: str, split: str) -> str:
    return osp.join(data_root, LABEL_DIR, f'{split}.txt')


def format_label_line(name: str, labels: Sequence[int]) -> str:
    return f"{name}\t{','.join(str(int(k)) for k in sorted(set(labels)))}"


def read_image_labels(path: str) -> List[Tuple[str, List[int]]]:
    """Read an image-level label file.

    Returns:
        list of ``(image file name, sorted class ids)``; an empty list of ids means defect-free.
    """
    if not osp.isfile(path):
        raise DatasetLayoutError(
            f'image-level label file not found: {path}. Create it with a converter in '
            'tools/dataset_converters/ (see README, "Your own data").')
    entries = []
    with open(path, encoding='utf-8') as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip('\n')
            if not line.strip():
                continue
            name, sep, ids = line.partition('\t')
            if not sep:
                raise DatasetLayoutError(f'{path}:{lineno}: expected "<name>\\t<ids>", got {line!r}')
            try:
                labels = sorted({int(k) for k in ids.split(',') if k.strip()})
            except ValueError as e:
                raise DatasetLayoutError(f'{path}:{lineno}: class ids must be integers, got {ids!r}') from e
            entries.append((name, labels))
    return entries


class ImageDecodeError(DatasetLayoutError):
    """An image file that is missing, empty, undecodable or truncated: the only kind of "bad image" the tools
    skip with ``--skip-bad``."""


def _is_truncated(path: str) -> bool:
    """JPEG without its end-of-image marker, PNG without its IEND chunk. OpenCV decodes a truncated JPEG into
    an image with grey rows (libjpeg's warning names no file), so the end of the file is checked directly."""
    ext = osp.splitext(path)[1].lower()
    if ext not in ('.jpg', '.jpeg', '.png'):
        return False
    with open(path, 'rb') as f:
        f.seek(max(0, osp.getsize(path) - 64))
        tail = f.read()
    if ext == '.png':
        return b'IEND' not in tail
    return not tail.rstrip(b'\x00\r\n\t ').endswith(b'\xff\xd9')


def read_image(path: str, flag: int = cv2.IMREAD_UNCHANGED) -> np.ndarray:
    """Decode an image completely; :class:`ImageDecodeError` names the file when it is missing, empty, corrupt
    or truncated."""
    if not osp.isfile(path):
        raise ImageDecodeError(f'image not found: {path}')
    if osp.getsize(path) == 0:
        raise ImageDecodeError(f'empty (zero-byte) image file: {path}; re-export or remove it')
    img = cv2.imread(path, flag)
    if img is None:
        raise ImageDecodeError(f'unreadable or corrupt image: {path}; re-export or remove it')
    if _is_truncated(path):
        raise ImageDecodeError(f'truncated image file (its end marker is missing): {path}; re-export or remove it')
    return img


def check_data_root(data_root: str) -> None:
    if not osp.isdir(data_root):
        raise DatasetLayoutError(
            f'data root does not exist: {data_root}. Run a converter (tools/dataset_converters/) '
            'or fix data_root in the config / --data-root.')


def validate_split(data_root: str,
                   split: str,
                   num_classes: int,
                   check_masks: bool = True,
                   require_both: bool = False) -> Dict[str, int]:
    """Check one split end to end and return counts.

    Checks: data root and folders exist, every listed image is readable, label ids are in
    ``1..num_classes - 1``, masks (when ``check_masks``) exist, match their image's size and hold only
    values in ``0..num_classes - 1``; with ``require_both`` the split must contain defect-free and
    defective images (the weakly supervised classifier needs both).

    Args:
        num_classes: number of segmentation classes including background.

    Returns:
        dict with ``images``, ``defect_free`` and ``defective`` counts.
    """
    check_data_root(data_root)
    img_dir = osp.join(data_root, IMG_DIR, split)
    if not osp.isdir(img_dir):
        raise DatasetLayoutError(f'image folder missing: {img_dir}')
    entries = read_image_labels(labels_file(data_root, split))
    if not entries:
        raise DatasetLayoutError(f'no images listed in {labels_file(data_root, split)}')
    free = 0
    for name, labels in entries:
        bad = [k for k in labels if not 1 <= k < num_classes]
        if bad:
            raise DatasetLayoutError(
                f'{labels_file(data_root, split)}: {name} has class ids {bad} outside 1..{num_classes - 1}')
        free += not labels
        img = read_image(osp.join(img_dir, name))
        if img.dtype != np.uint8:
            raise DatasetLayoutError(
                f'{osp.join(img_dir, name)} is {img.dtype} ({8 * img.dtype.itemsize}-bit): the image loaders would '
                'shift it to 8 bits blindly; convert the data with tools/dataset_converters/folders.py, which '
                'scales by the bit depth actually used')
        if not check_masks:
            continue
        mask_path = osp.join(data_root, ANN_DIR, split, osp.splitext(name)[0] + '.png')
        mask = read_image(mask_path, cv2.IMREAD_UNCHANGED)
        if mask.ndim != 2:
            raise DatasetLayoutError(f'mask must be single-channel: {mask_path} has shape {mask.shape}')
        if mask.shape != img.shape[:2]:
            raise DatasetLayoutError(
                f'mask size {mask.shape[1]}x{mask.shape[0]} differs from image size '
                f'{img.shape[1]}x{img.shape[0]}: {mask_path}')
        top = int(mask.max())
        if top >= num_classes:
            raise DatasetLayoutError(
                f'mask values outside the class list (0..{num_classes - 1}): {mask_path} holds {top}')
    stats = dict(images=len(entries), defect_free=free, defective=len(entries) - free)
    if require_both and (stats['defect_free'] == 0 or stats['defective'] == 0):
        missing = 'defect-free' if stats['defect_free'] == 0 else 'defective'
        raise DatasetLayoutError(
            f'split {split!r} of {data_root} has no {missing} images; the weakly supervised pipeline '
            'needs both defect-free and defective images to learn what a defect is.')
    return stats
