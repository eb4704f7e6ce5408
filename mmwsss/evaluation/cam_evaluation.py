"""The WSSS CAM protocol: CAMs of the image-level classes, background by a threshold swept over a grid,
one confusion matrix per threshold accumulated over the whole split (pure torch, all thresholds at once)."""
from typing import Dict, List, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from .segmentation_scores import IGNORE_INDEX, iou_from_confusion, summarize_iou


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
        thr = self.thresholds.to(cams.device)[:, None]
        pred = torch.where(score[None] >= thr, idx[None], torch.zeros_like(idx)[None])  # (T, P)
        codes = gt[None] * self.num_classes + pred + (torch.arange(len(thr), device=cams.device)[:, None] *
                                                     self.num_classes**2)
        counts = torch.bincount(codes.flatten(), minlength=len(thr) * self.num_classes**2)
        self.confusion += counts.view(len(thr), self.num_classes, self.num_classes).cpu()

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
