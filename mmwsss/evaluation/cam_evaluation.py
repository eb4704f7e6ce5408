"""The WSSS CAM protocol: CAMs of the image-level classes, background by a threshold swept over a grid,
one confusion matrix per threshold accumulated over the whole split (pure torch, all thresholds at once)."""
from typing import Dict, List, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from .segmentation_scores import IGNORE_INDEX, iou_from_confusion, summarize_iou


def _swept_confusions(score: Tensor, label: Tensor, gt: Tensor, thresholds: Tensor, num_classes: int) -> Tensor:
    """(P,) scores, (P,) labels in 1..K, (P,) GT, (T,) thresholds -> (T, C, C) confusion matrices (rows GT) of
    ``label if score >= t else 0``, one bincount for every threshold."""
    t = len(thresholds)
    pred = torch.where(score[None] >= thresholds[:, None], label[None], torch.zeros_like(label)[None])  # (T, P)
    codes = gt[None] * num_classes + pred + torch.arange(t, device=score.device)[:, None] * num_classes**2
    return torch.bincount(codes.flatten(), minlength=t * num_classes**2).view(t, num_classes, num_classes).cpu()


class ThresholdSweep:
    """Accumulate confusion matrices of ``label_t = argmax_k cam_k + 1 if max_k cam_k >= t else 0``.

    Args:
        num_classes: segmentation classes including background.
        thresholds: the grid (e.g. 0.05 .. 0.95).
    """

    def __init__(self, num_classes: int, thresholds: Sequence[float]) -> None:
        if not thresholds:
            raise ValueError('thresholds must not be empty')
        self.num_classes = num_classes
        self.thresholds = torch.tensor(list(thresholds), dtype=torch.float32)
        self.confusion = torch.zeros(len(thresholds), num_classes, num_classes, dtype=torch.long)

    def update(self, cams: Tensor, class_mask: Tensor, gt: Tensor) -> None:
        """cams (K, h, w) in [0, 1] of one image (resized to the GT size here), class_mask (K,), gt (H, W)."""
        cams = F.interpolate(cams[None].float(), size=tuple(gt.shape), mode='bilinear', align_corners=False)[0]
        cams = cams * class_mask.to(cams.device)[:, None, None]
        score, idx = cams.max(0)
        gt = gt.to(cams.device).long().flatten()
        keep = gt != IGNORE_INDEX
        score, idx, gt = score.flatten()[keep], idx.flatten()[keep] + 1, gt[keep]
        self.confusion += _swept_confusions(score, idx, gt, self.thresholds.to(cams.device), self.num_classes)

    def summary(self, class_names: List[str], select: str = 'defect_miou') -> Dict:
        """Best threshold by ``select`` (``'defect_miou'`` or ``'miou'``) and its scores, plus the curve."""
        rows = [summarize_iou(iou_from_confusion(cm), class_names) for cm in self.confusion]
        best = max(range(len(rows)), key=lambda i: rows[i][select] if rows[i][select] is not None else -1)
        out = dict(rows[best], best_threshold=round(float(self.thresholds[best]), 3), selected_by=select)
        out['curve'] = [dict(threshold=round(float(t), 3), miou=r['miou'], defect_miou=r['defect_miou'])
                        for t, r in zip(self.thresholds, rows)]
        return out


class BinnedConfusion:
    """Counts ``n[g, c, b]`` of the pixels with GT class ``g``, label ``c = argmax_k cam_k + 1`` and score bin
    ``b = floor(B max_k cam_k)`` over a split (one bincount per image), from which the confusion matrix of any
    threshold ``t = k / B`` on the bin grid follows without another pass (the split-level threshold rules need it
    after they have seen every image):

        cm_t[g, c] = sum_{b >= k} n[g, c, b]  (c >= 1)        cm_t[g, 0] = sum_{b < k} sum_c n[g, c, b]

    Args:
        num_classes: segmentation classes including background. bins: ``B``.
    """

    def __init__(self, num_classes: int, bins: int = 256) -> None:
        self.num_classes, self.bins = num_classes, bins
        self.counts = torch.zeros(num_classes, num_classes, bins, dtype=torch.long)

    def update(self, score: Tensor, label: Tensor, gt: Tensor) -> None:
        """score (H, W) in [0, 1], label (H, W) in 1..K (the argmax class + 1), gt (H, W) of one image."""
        gt = gt.to(score.device).long().flatten()
        keep = gt != IGNORE_INDEX
        b = (score.flatten()[keep].float() * self.bins).long().clamp(0, self.bins - 1)
        codes = (gt[keep] * self.num_classes + label.flatten()[keep].long()) * self.bins + b
        self.counts += torch.bincount(codes, minlength=self.counts.numel()).view_as(self.counts).cpu()

    def confusion(self, threshold: float) -> Tensor:
        """(C, C) confusion matrix (rows GT) of ``label if score >= threshold else 0``; ``threshold`` is taken to
        the bin grid (``k = round(threshold B)``)."""
        k = min(max(int(round(threshold * self.bins)), 0), self.bins)
        cm = self.counts[:, :, k:].sum(2)
        cm[:, 0] += self.counts[:, :, :k].sum((1, 2))
        return cm


class FloorSweep:
    """Confusion matrices of ``label if score >= max(cut, f) else 0`` for every floor ``f`` of a grid, with a
    per-image ``cut`` (Otsu's), from which the confusion of a floor per class follows after the split
    (``agreement_otsu`` picks its floors only once it has seen every image):

        cm[g, c] = cm_{f_c}[g, c]  (c >= 1)        cm[g, 0] = n_g - sum_{c >= 1} cm[g, c]

    (a pixel of argmax class ``c`` is labelled ``c`` or 0 by ``f_c`` alone; ``n_g`` = pixels of GT class ``g``).

    Args:
        num_classes: segmentation classes including background. floors: the grid (T,).
    """

    def __init__(self, num_classes: int, floors: Sequence[float]) -> None:
        if not floors:
            raise ValueError('floors must not be empty')
        self.num_classes = num_classes
        self.floors = torch.tensor(list(floors), dtype=torch.float32)
        self.confusion = torch.zeros(len(self.floors), num_classes, num_classes, dtype=torch.long)

    def update(self, score: Tensor, label: Tensor, cut: float, gt: Tensor) -> None:
        """score (H, W) in [0, 1], label (H, W) in 1..K (argmax class + 1), the image's ``cut``, gt (H, W)."""
        gt = gt.to(score.device).long().flatten()
        keep = gt != IGNORE_INDEX
        score, label, gt = score.flatten()[keep].float(), label.flatten()[keep].long(), gt[keep]
        self.confusion += _swept_confusions(score, label, gt, self.floors.to(score.device).clamp(min=cut),
                                            self.num_classes)

    def confusion_at(self, floor_index: Tensor) -> Tensor:
        """(K,) index into the grid of each defect class's floor -> (C, C) confusion matrix (rows GT)."""
        if floor_index.numel() != self.num_classes - 1:
            raise ValueError(f'need one floor per defect class ({self.num_classes - 1}), got {floor_index.numel()}')
        cm = torch.zeros_like(self.confusion[0])
        cm[:, 1:] = self.confusion[floor_index.long(), :, torch.arange(1, self.num_classes)].T  # (K, C) -> (C, K)
        cm[:, 0] = self.confusion[0].sum(1) - cm[:, 1:].sum(1)
        return cm
