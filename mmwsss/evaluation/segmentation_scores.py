"""Confusion-matrix IoU for label maps on disk (pseudo-labels vs GT), pure torch."""
import os.path as osp
from typing import Dict, List, Optional, Sequence

import torch
from torch import Tensor

from mmwsss.datasets.layout import ANN_DIR, DatasetLayoutError, labels_file, read_image, read_image_labels

IGNORE_INDEX = 255


def confusion_matrix(pred: Tensor, gt: Tensor, num_classes: int, ignore_as: Optional[int] = 0) -> Tensor:
    """(H, W) pred and gt label maps -> (num_classes, num_classes) counts, rows = GT, cols = prediction.

    Predicted ``255`` (ignore band) is counted as class ``ignore_as`` (background by default: an
    undecided pixel is not a detection), or dropped if ``ignore_as`` is None. GT 255 pixels are dropped.
    """
    if pred.shape != gt.shape:
        raise ValueError(f'prediction {tuple(pred.shape)} and GT {tuple(gt.shape)} differ in size')
    pred = pred.long().flatten()
    gt = gt.long().flatten()
    keep = gt != IGNORE_INDEX
    if ignore_as is None:
        keep &= pred != IGNORE_INDEX
    else:
        pred = torch.where(pred == IGNORE_INDEX, torch.full_like(pred, ignore_as), pred)
    pred, gt = pred[keep], gt[keep]
    if pred.numel() and int(pred.max()) >= num_classes:
        raise ValueError(f'prediction holds class {int(pred.max())} >= num_classes {num_classes}')
    return torch.bincount(gt * num_classes + pred, minlength=num_classes**2).view(num_classes, num_classes)


def iou_from_confusion(cm: Tensor) -> Tensor:
    """(C, C) confusion -> (C,) IoU; NaN for classes absent from both GT and prediction."""
    cm = cm.double()
    inter = cm.diag()
    union = cm.sum(0) + cm.sum(1) - inter
    return torch.where(union > 0, inter / union.clamp(min=1), torch.full_like(inter, float('nan')))


def summarize_iou(iou: Tensor, class_names: Sequence[str]) -> Dict:
    """IoU vector -> ``{"miou", "defect_miou", "iou": {name: v}, "defect_iou": {name: v}}`` (fractions)."""
    vals = [None if torch.isnan(v) else round(float(v), 4) for v in iou]
    defect = [v for v in vals[1:] if v is not None]
    present = [v for v in vals if v is not None]
    return dict(
        miou=round(sum(present) / len(present), 4) if present else None,
        defect_miou=round(sum(defect) / len(defect), 4) if defect else None,
        iou=dict(zip(class_names, vals)),
        defect_iou=dict(zip(class_names[1:], vals[1:])))


def score_label_folder(pred_dir: str, data_root: str, split: str, class_names: Sequence[str],
                       ignore_as: Optional[int] = 0) -> Dict:
    """Score every ``<stem>.png`` in ``pred_dir`` against ``data_root/ann_dir/<split>`` (all images of
    the split). Returns :func:`summarize_iou` (255 counted as ``ignore_as``) plus ``ignored_fraction``,
    ``images`` and ``decided``: :func:`summarize_iou` over the pixels the labels decide (255 left out), how right
    pseudo-labels are where they speak."""
    num_classes = len(class_names)
    cm = torch.zeros(num_classes, num_classes, dtype=torch.long)
    cm_decided = torch.zeros_like(cm)
    ignored = total = 0
    entries: List = read_image_labels(labels_file(data_root, split))
    for name, _ in entries:
        stem = osp.splitext(name)[0]
        pred_path = osp.join(pred_dir, stem + '.png')
        if not osp.isfile(pred_path):
            raise DatasetLayoutError(f'missing prediction {pred_path} for {name}')
        pred = torch.from_numpy(read_image(pred_path))
        gt = torch.from_numpy(read_image(osp.join(data_root, ANN_DIR, split, stem + '.png')))
        ignored += int((pred == IGNORE_INDEX).sum())
        total += pred.numel()
        cm += confusion_matrix(pred, gt, num_classes, ignore_as)
        cm_decided += confusion_matrix(pred, gt, num_classes, None)
    out = summarize_iou(iou_from_confusion(cm), list(class_names))
    out.update(ignored_fraction=round(ignored / max(total, 1), 4), images=len(entries),
               decided=summarize_iou(iou_from_confusion(cm_decided), list(class_names)))
    return out
