"""Procedural industrial-surface images with pixel-exact defect masks (the embedded default data).

Each image is a textured surface (brushed metal, grain or tile) under a smooth lighting gradient with
sensor noise. Defective images carry one (sometimes two) of three defect types of different shape:

=====  =========  ==================================================================
 id     class      shape
=====  =========  ==================================================================
 1      scratch    thin dark/bright curved line, 1-3 px wide, 25-70 px long
 2      pit        1-3 small round dark pits (radius 2-5 px) with a bright rim
 3      stain      large, low-contrast, soft-edged blob (8-25 % of the image)
=====  =========  ==================================================================

Everything is seeded per (seed, split, index), so any image can be regenerated alone and the whole set
is byte-identical across runs. This module is an I/O edge: numpy + cv2, no torch.
"""
from dataclasses import dataclass
from typing import Dict, List, Tuple

import cv2
import numpy as np

SYNTHETIC_CLASSES = ('background', 'scratch', 'pit', 'stain')
SYNTHETIC_PALETTE = [[0, 0, 0], [230, 25, 75], [60, 180, 75], [0, 130, 200]]
TEXTURES = ('brushed', 'grain', 'tile')
SPLIT_IDS = {'train': 0, 'val': 1, 'test': 2}


@dataclass(frozen=True)
class SyntheticSpec:
    """How many images of which size to make.

    Args:
        size: square image side in pixels.
        num_train/num_val/num_test: images per split.
        defect_free_ratio: fraction of images without any defect.
        two_defect_ratio: fraction of defective images carrying two defect types.
        seed: master seed.
    """
    size: int = 128
    num_train: int = 240
    num_val: int = 60
    num_test: int = 60
    defect_free_ratio: float = 0.3
    two_defect_ratio: float = 0.15
    seed: int = 0

    def __post_init__(self):
        if self.size < 32:
            raise ValueError(f'size must be >= 32 px, got {self.size}')
        for name in ('num_train', 'num_val', 'num_test'):
            if getattr(self, name) < 0:
                raise ValueError(f'{name} must be >= 0, got {getattr(self, name)}')
        if not 0.0 <= self.defect_free_ratio < 1.0:
            raise ValueError(f'defect_free_ratio must be in [0, 1), got {self.defect_free_ratio}')
        if not 0.0 <= self.two_defect_ratio <= 1.0:
            raise ValueError(f'two_defect_ratio must be in [0, 1], got {self.two_defect_ratio}')


def _smooth_noise(rng: np.random.Generator, size: int, sigma_x: float, sigma_y: float) -> np.ndarray:
    noise = rng.standard_normal((size, size)).astype(np.float32)
    noise = cv2.GaussianBlur(noise, (0, 0), sigmaX=sigma_x, sigmaY=sigma_y, borderType=cv2.BORDER_REFLECT)
    return noise / (noise.std() + 1e-6)


def _texture(rng: np.random.Generator, size: int, kind: str) -> np.ndarray:
    base = rng.uniform(100, 160)
    if kind == 'brushed':
        tex = 9 * _smooth_noise(rng, size, 12.0, 0.6) + 3 * _smooth_noise(rng, size, 3, 3)
        if rng.random() < 0.5:
            tex = tex.T
    elif kind == 'grain':
        tex = 6 * _smooth_noise(rng, size, 1.0, 1.0) + 5 * _smooth_noise(rng, size, 6, 6)
    elif kind == 'tile':
        period = int(rng.integers(size // 4, size // 2))
        offset = int(rng.integers(0, period))
        yy, xx = np.mgrid[0:size, 0:size]
        grout = (((yy + offset) % period) < 2) | (((xx + offset) % period) < 2)
        tex = 4 * _smooth_noise(rng, size, 2, 2) - 14 * grout.astype(np.float32)
    else:
        raise ValueError(f'unknown texture {kind!r}; choose from {TEXTURES}')
    return base + tex


def _lighting(rng: np.random.Generator, size: int) -> np.ndarray:
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    angle = rng.uniform(0, 2 * np.pi)
    linear = (np.cos(angle) * (xx - 0.5) + np.sin(angle) * (yy - 0.5)) * rng.uniform(10, 35)
    cy, cx = rng.uniform(0.2, 0.8, 2)
    radial = -((yy - cy) ** 2 + (xx - cx) ** 2) * rng.uniform(0, 40)
    return (linear + radial).astype(np.float32)


def _draw_scratch(rng, img, mask, cls):
    size = img.shape[0]
    length = rng.uniform(25, 70) * size / 128
    x, y = rng.uniform(0.15, 0.85, 2) * size
    angle = rng.uniform(0, 2 * np.pi)
    curvature = rng.uniform(-0.04, 0.04)
    pts = []
    for _ in range(int(length)):
        pts.append((x, y))
        angle += curvature
        x += np.cos(angle)
        y += np.sin(angle)
    pts = np.round(np.array(pts)).astype(np.int32).reshape(-1, 1, 2)
    width = int(rng.integers(1, 4))
    layer = np.zeros_like(mask)
    cv2.polylines(layer, [pts], False, 1, thickness=width, lineType=cv2.LINE_8)
    sign = -1 if rng.random() < 0.75 else 1
    img += sign * rng.uniform(30, 55) * layer
    mask[layer > 0] = cls


def _draw_pits(rng, img, mask, cls):
    size = img.shape[0]
    for _ in range(int(rng.integers(1, 4))):
        r = rng.uniform(2, 5) * size / 128
        cx, cy = rng.uniform(0.1, 0.9, 2) * size
        yy, xx = np.ogrid[0:size, 0:size]
        dist = np.sqrt((yy - cy) ** 2 + (xx - cx) ** 2)
        core = dist <= r
        rim = (dist > r) & (dist <= r + 1.5)
        img[core] -= rng.uniform(40, 70)
        img[rim] += rng.uniform(10, 25)
        mask[core] = cls


def _draw_stain(rng, img, mask, cls):
    size = img.shape[0]
    area = rng.uniform(0.08, 0.25) * size * size
    ratio = rng.uniform(0.5, 1.0)
    a = np.sqrt(area / (np.pi * ratio))
    b = a * ratio
    cx, cy = rng.uniform(0.3, 0.7, 2) * size
    theta = rng.uniform(0, np.pi)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    u = (xx - cx) * np.cos(theta) + (yy - cy) * np.sin(theta)
    v = -(xx - cx) * np.sin(theta) + (yy - cy) * np.cos(theta)
    wobble = 0.25 * _smooth_noise(rng, size, 6, 6)
    inside = (u / a) ** 2 + (v / b) ** 2 + wobble
    region = inside <= 1.0
    soft = cv2.GaussianBlur(region.astype(np.float32), (0, 0), 3.0)
    sign = -1 if rng.random() < 0.6 else 1
    img += sign * rng.uniform(12, 22) * soft
    mask[region] = cls


DRAWERS = {1: _draw_scratch, 2: _draw_pits, 3: _draw_stain}


def make_sample(spec: SyntheticSpec, split: str, index: int) -> Tuple[np.ndarray, np.ndarray, List[int]]:
    """Generate one image.

    Returns:
        tuple: ``(image uint8 (S, S), mask uint8 (S, S) with 0 = background, k = class id,
        image-level labels: sorted list of class ids present)``.
    """
    if split not in SPLIT_IDS:
        raise ValueError(f'split must be one of {tuple(SPLIT_IDS)}, got {split!r}')
    rng = np.random.default_rng([spec.seed, SPLIT_IDS[split], index])
    size = spec.size
    img = _texture(rng, size, TEXTURES[int(rng.integers(len(TEXTURES)))]) + _lighting(rng, size)
    mask = np.zeros((size, size), np.uint8)
    labels: List[int] = []
    if rng.random() >= spec.defect_free_ratio:
        count = 2 if rng.random() < spec.two_defect_ratio else 1
        classes = sorted(rng.choice([1, 2, 3], size=count, replace=False).tolist())
        # draw large stains first so thin defects stay visible (and labelled) on top
        for cls in sorted(classes, key=lambda c: c != 3):
            DRAWERS[cls](rng, img, mask, cls)
        labels = sorted(int(c) for c in np.unique(mask) if c > 0)
    img += rng.normal(0, rng.uniform(2, 5), img.shape)
    img = cv2.GaussianBlur(img.astype(np.float32), (0, 0), 0.6)
    return np.clip(img, 0, 255).astype(np.uint8), mask, labels


def split_sizes(spec: SyntheticSpec) -> Dict[str, int]:
    return {'train': spec.num_train, 'val': spec.num_val, 'test': spec.num_test}


def write_synthetic_dataset(out_dir: str, spec: SyntheticSpec = SyntheticSpec(),
                            progress: bool = False) -> Dict[str, int]:
    """Write the synthetic set in the mmwsss layout (see :mod:`mmwsss.datasets.layout`).

    Existing files are overwritten atomically; the output is identical for identical ``spec``.

    Returns:
        dict split -> number of images written.
    """
    import os.path as osp

    from mmwsss.utils import atomic_write_png, atomic_write_text
    from .layout import ANN_DIR, IMG_DIR, format_label_line, labels_file

    counts = {}
    for split, num in split_sizes(spec).items():
        lines = []
        indices = range(num)
        if progress:
            from tqdm import tqdm
            indices = tqdm(indices, desc=f'synthetic {split}', unit='img')
        for i in indices:
            img, mask, labels = make_sample(spec, split, i)
            name = f'{split}_{i:05d}'
            atomic_write_png(osp.join(out_dir, IMG_DIR, split, name + '.png'), img)
            atomic_write_png(osp.join(out_dir, ANN_DIR, split, name + '.png'), mask)
            lines.append(format_label_line(name + '.png', labels))
        atomic_write_text(labels_file(out_dir, split), '\n'.join(lines) + ('\n' if lines else ''))
        counts[split] = num
    return counts
