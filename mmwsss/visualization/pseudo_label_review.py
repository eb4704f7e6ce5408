"""Let a person look at pseudo-labels, the doubtful ones first.

Reads a pseudo-label folder's ``confidence.csv`` (written by the generator, one row per image, see
:func:`mmwsss.apis.pseudo_label_generation.pseudo_label_confidence`) and writes:

* ``review_order.csv``  every defective image, lowest confidence first (the review queue);
* ``overlays/<stem>.png``  image | pseudo-label blended over it, at the image's full resolution, for the
  images shown in the galleries;
* ``gallery_<class>_{worst,best}.png``  the ``num`` least / most confident images of each class side by side
  (rows scaled to ``row_height`` px; the full-resolution overlays hold the detail);
* ``review.json``  paths, mean confidence per class and, given GT masks, how well the confidence ranks the
  pseudo-labels (:func:`confidence_check`).
"""
import csv
import json
import os.path as osp
from typing import Dict, List, Optional

import cv2
import numpy as np

from mmwsss.datasets.layout import read_image
from mmwsss.utils import atomic_write_png, atomic_write_text
from .panels import colorize, default_palette


def read_confidence(label_dir: str) -> List[dict]:
    """Rows of ``<label_dir>/confidence.csv`` with ``confidence`` as float and ``classes`` as a list."""
    path = osp.join(label_dir, 'confidence.csv')
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path} not found: generate the pseudo-labels with this version of '
                                'tools/generate_pseudo_labels.py (it writes confidence.csv)')
    with open(path, newline='', encoding='utf-8') as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        row['confidence'] = float(row['confidence'])
        row['classes'] = [c for c in row['classes'].split('+') if c]
    return rows


def overlay_pair(image: np.ndarray, label: np.ndarray, palette: List[List[int]], alpha: float = 0.5) -> np.ndarray:
    """BGR image (H, W, 3) and its label (H, W) -> (H, 2W, 3): image | label blended over the image."""
    color = colorize(label, palette)
    blend = image.copy()
    drawn = label != 0
    blend[drawn] = (alpha * color[drawn] + (1 - alpha) * image[drawn]).astype(np.uint8)
    return np.concatenate([image, blend], axis=1)


def _as_bgr(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    return image[..., :3]


def confidence_check(rows: List[dict], label_dir: str, gt_dir: str) -> Dict:
    """How well ``confidence`` ranks the pseudo-labels: per defective image, the defect-vs-background IoU of
    its pseudo-label (255 counted as background) against the GT mask ``<gt_dir>/<image>``; returns the
    Spearman rank correlation and the mean IoU of the least / most confident fifth (monitoring only)."""
    conf, iou = [], []
    for row in rows:
        label = read_image(osp.join(label_dir, row['image']), cv2.IMREAD_UNCHANGED)
        gt = read_image(osp.join(gt_dir, row['image']), cv2.IMREAD_UNCHANGED) > 0
        pred = (label > 0) & (label != 255)
        union = int((pred | gt).sum())
        iou.append(int((pred & gt).sum()) / union if union else 1.0)
        conf.append(row['confidence'])
    conf_a, iou_a = np.asarray(conf), np.asarray(iou)
    ranks = [np.argsort(np.argsort(x, kind='stable'), kind='stable') for x in (conf_a, iou_a)]
    rho = float(np.corrcoef(*ranks)[0, 1]) if len(rows) > 1 else float('nan')
    order, fifth = np.argsort(conf_a, kind='stable'), max(1, len(rows) // 5)
    return dict(images=len(rows), spearman=round(rho, 4), mean_iou=round(float(iou_a.mean()), 4),
                iou_least_confident_fifth=round(float(iou_a[order[:fifth]].mean()), 4),
                iou_most_confident_fifth=round(float(iou_a[order[-fifth:]].mean()), 4))


def write_review(label_dir: str,
                 out_dir: str,
                 num: int = 8,
                 row_height: int = 160,
                 palette: Optional[List[List[int]]] = None,
                 class_names: Optional[List[str]] = None,
                 gt_dir: Optional[str] = None) -> Dict:
    """Write the review queue, full-resolution overlays and per-class best / worst galleries.

    Args:
        label_dir: pseudo-label folder (PNGs + ``confidence.csv``).
        out_dir: where to write.
        num: images per gallery.
        class_names: background first, for colours (default: the classes seen in the CSV, in order).
        gt_dir: optional GT mask folder of the same images: adds ``check`` (:func:`confidence_check`).

    Returns:
        dict with ``review_order`` (path), ``galleries`` ({class: {worst, best}: path}),
        ``mean_confidence`` per class and, with ``gt_dir``, ``check``.
    """
    if num < 1:
        raise ValueError(f'num must be >= 1, got {num}')
    rows = read_confidence(label_dir)
    defective = sorted((r for r in rows if r['classes']), key=lambda r: (r['confidence'], r['image']))
    if class_names is None:
        class_names = ['background']
        for row in rows:
            class_names += [c for c in row['classes'] if c not in class_names]
    palette = palette or default_palette(len(class_names))
    fields = ['image', 'img_path', 'classes', 'confidence', 'defect_fraction', 'ignored_fraction']
    lines = [','.join(fields)] + [','.join(
        '+'.join(r['classes']) if k == 'classes' else str(r[k]) for k in fields) for r in defective]
    review_path = osp.join(out_dir, 'review_order.csv')
    atomic_write_text(review_path, '\n'.join(lines) + '\n')

    def overlay(row) -> np.ndarray:
        image = _as_bgr(read_image(row['img_path'], cv2.IMREAD_UNCHANGED))
        label = read_image(osp.join(label_dir, row['image']), cv2.IMREAD_UNCHANGED)
        pair = overlay_pair(image, label, palette)
        atomic_write_png(osp.join(out_dir, 'overlays', row['image']), pair)
        return pair

    galleries, mean_conf = {}, {}
    for name in class_names[1:]:
        members = [r for r in defective if name in r['classes']]
        if not members:
            continue
        mean_conf[name] = round(float(np.mean([r['confidence'] for r in members])), 4)
        galleries[name] = {}
        for kind, chosen in (('worst', members[:num]), ('best', members[::-1][:num])):
            tiles = []
            for row in chosen:
                pair = overlay(row)
                scale = row_height / pair.shape[0]
                tile = cv2.resize(pair, (max(1, int(round(pair.shape[1] * scale))), row_height),
                                  interpolation=cv2.INTER_AREA)
                cv2.putText(tile, f"{row['confidence']:.2f}", (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5,
                            (255, 255, 255), 1, cv2.LINE_AA)
                tiles.append(tile)
            width = max(t.shape[1] for t in tiles)
            grid = np.concatenate([np.pad(t, ((0, 0), (0, width - t.shape[1]), (0, 0))) for t in tiles], axis=0)
            path = osp.join(out_dir, f'gallery_{name}_{kind}.png')
            atomic_write_png(path, grid)
            galleries[name][kind] = path
    out = dict(review_order=review_path, galleries=galleries, mean_confidence=mean_conf,
               defective_images=len(defective))
    if gt_dir:
        out['check'] = confidence_check(defective, label_dir, gt_dir)
    atomic_write_text(osp.join(out_dir, 'review.json'), json.dumps(out, indent=2))
    return out
