"""Atomic file writes: write to a temporary file in the target folder, then ``os.replace``.

A reader (or a resumed run) therefore sees either the old file or the complete new one, never a
truncated file, even if the process is killed mid-write. The file gets the mode a plain ``open`` would
give it (``0o666`` minus the umask), not ``mkstemp``'s private ``0o600``.
"""
import os
import os.path as osp
import tempfile

import cv2
import numpy as np


def _umask_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write_bytes(path: str, data: bytes) -> None:
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.tmp_', suffix=osp.basename(path), dir=folder)
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
        os.chmod(tmp, _umask_mode())
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def atomic_write_text(path: str, text: str) -> None:
    atomic_write_bytes(path, text.encode('utf-8'))


def atomic_write_png(path: str, array: np.ndarray) -> None:
    """Encode ``array`` (H, W) or (H, W, 3) uint8 as PNG and write it atomically."""
    ok, buf = cv2.imencode('.png', array)
    if not ok:
        raise IOError(f'could not encode PNG for {path} (array {array.shape}, {array.dtype})')
    atomic_write_bytes(path, buf.tobytes())
