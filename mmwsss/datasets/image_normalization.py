"""Bring any readable image to what the OpenMMLab loaders expect: 8-bit, 1 or 3 channels.

Industrial cameras write 10/12/16-bit grayscale, RGBA screenshots and palette PNGs. ``LoadImageFromFile``
(cv2, ``IMREAD_COLOR``) would silently shift 16-bit data right by 8 bits (a 12-bit image turns almost
black), so the converters decode with ``IMREAD_UNCHANGED`` and normalize here:

* 8-bit, 1 or 3 channels: unchanged (the source file is copied byte for byte);
* more than 8 bits per sample: ``value >> (bits - 8)`` with ``bits`` the smallest depth >= 8 that holds the
  image's maximum (a 12-bit image in a 16-bit container keeps its full contrast; no per-image stretching,
  so intensities stay comparable between images of one camera);
* 4 channels (BGRA): alpha dropped; 2 channels (gray + alpha): alpha dropped;
* floating point: refused (the scale is unknown), with a message naming the file.
"""
from typing import Tuple

import numpy as np

from .layout import DatasetLayoutError


def normalize_image(img: np.ndarray, path: str) -> Tuple[np.ndarray, str]:
    """Return ``(uint8 image (H, W) or (H, W, 3), note)``; ``note`` is ``''`` when nothing changed.

    Args:
        img: array as decoded by ``cv2.imread(path, cv2.IMREAD_UNCHANGED)``.
        path: the source file, for messages.
    """
    notes = []
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[:, :, 0]
    if img.ndim == 3 and img.shape[2] in (2, 4):
        img = img[:, :, 0] if img.shape[2] == 2 else img[:, :, :3]
        notes.append('alpha dropped')
    if img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[2] != 3):
        raise DatasetLayoutError(f'unsupported image layout {img.shape} in {path}: expected gray, BGR or BGRA')
    if img.dtype == np.uint8:
        return np.ascontiguousarray(img), ', '.join(notes)
    if not np.issubdtype(img.dtype, np.integer):
        raise DatasetLayoutError(
            f'floating-point image {path} ({img.dtype}): the intensity scale is unknown; export it as 8- or '
            '16-bit integer PNG/TIFF')
    top = int(img.max())
    if top < 0 or img.min() < 0:
        raise DatasetLayoutError(f'signed image with negative values {path} ({img.dtype}); export it unsigned')
    bits = max(8, int(top).bit_length())
    img = (img.astype(np.int64) >> (bits - 8)).astype(np.uint8)
    notes.append(f'{bits}-bit -> 8-bit')
    return np.ascontiguousarray(img), ', '.join(notes)
