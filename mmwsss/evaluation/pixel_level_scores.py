"""Pixel-level defect scores (anomalib's pixel AUROC, AUPRO and F1-max), from histograms, pure torch.

Defect vs background, all defect classes together; ``d = 1 - p(background)`` per pixel. Scores are binned
into ``B`` equal bins of [0, 1] (bin ``b`` = ``floor(d * B)``; the threshold of bin ``b`` is ``b / B``), so a
whole test split is three (B,) histograms, summed image by image (:func:`pixel_histograms`):

* ``neg[b]`` background pixels, ``pos[b]`` defect pixels (ignored pixels dropped),
* ``pro[b] = sum_r |{p in r: bin(p) = b}| / |r|`` over the GT regions ``r`` (8-connected components of the
  defect pixels of each image, ``R`` regions in all).

At threshold ``b / B`` (``d >= b / B`` is defect), with reverse cumulative sums ``S``:
``fpr = S(neg) / N``, ``tpr = S(pos) / P``, ``pro = S(pro) / R``.

* ``auroc`` = area under (fpr, tpr), from (0, 0) (pixels sharing a bin count as ties: 1/2);
* ``aupro`` = area under (fpr, pro) up to ``fpr_limit`` (0.3, as anomalib), linearly interpolated at the
  limit, divided by ``fpr_limit`` (1.0 = every region fully found before any false alarm);
* ``f1_max`` = max over thresholds of ``2 TP / (P + TP + FP)``.
"""
from typing import Dict, Optional, Tuple

import cv2
import numpy as np
import torch
from torch import Tensor

DEFAULT_BINS = 1000


def pixel_histograms(defect_prob: Tensor, gt: Tensor, bins: int = DEFAULT_BINS,
                     ignore_index: int = 255) -> Tuple[Tensor, Tensor, Tensor, int]:
    """(H, W) defect probability and (H, W) GT labels (0 background, k defect, ``ignore_index``) of one image ->
    ``neg``, ``pos``, ``pro`` (each (bins,) float64) and the number of GT regions."""
    valid = gt != ignore_index
    index = (defect_prob.float() * bins).long().clamp_(0, bins - 1)
    defect = (gt != 0) & valid
    neg = torch.bincount(index[valid & ~defect], minlength=bins).double()
    pos = torch.bincount(index[defect], minlength=bins).double()
    n, regions = cv2.connectedComponents(defect.cpu().numpy().astype(np.uint8), connectivity=8)
    regions = torch.from_numpy(regions).to(index.device).long()
    area = torch.bincount(regions.flatten(), minlength=n).double()
    inside = regions > 0
    pro = torch.bincount(index[inside], weights=(1.0 / area)[regions[inside]], minlength=bins)
    return neg, pos, pro, n - 1


def _curve(neg: Tensor, hits: Tensor, total: float) -> Tuple[Tensor, Tensor]:
    """(fpr, rate) from the highest threshold down, starting at (0, 0)."""
    fpr = neg.flip(0).cumsum(0) / neg.sum()
    rate = hits.flip(0).cumsum(0) / total
    zero = fpr.new_zeros(1)
    return torch.cat([zero, fpr]), torch.cat([zero, rate])


def _area(x: Tensor, y: Tensor, limit: float = 1.0) -> float:
    """Trapezoid area under y(x) for x in [0, limit] (x non-decreasing), y interpolated at the limit."""
    keep = x <= limit
    xs, ys = x[keep], y[keep]
    if xs[-1] < limit and keep.sum() < x.numel():
        i = int(keep.sum())
        x0, x1, y0, y1 = x[i - 1], x[i], y[i - 1], y[i]
        y_lim = y0 + (y1 - y0) * (limit - x0) / (x1 - x0) if x1 > x0 else y1
        xs, ys = torch.cat([xs, xs.new_tensor([limit])]), torch.cat([ys, ys.new_tensor([float(y_lim)])])
    return float(torch.trapezoid(ys, xs))


def pixel_level_scores(neg: Tensor, pos: Tensor, pro: Tensor, regions: int,
                       fpr_limit: float = 0.3) -> Dict[str, Optional[float]]:
    """Summed histograms -> ``auroc``, ``aupro``, ``f1_max`` (``None`` where undefined), ``defect_pixels``,
    ``regions``."""
    n_pos, n_neg = float(pos.sum()), float(neg.sum())
    out: Dict[str, Optional[float]] = dict(defect_pixels=int(n_pos), regions=int(regions), auroc=None, aupro=None,
                                          f1_max=None)
    if n_pos > 0:
        tp = pos.flip(0).cumsum(0)
        fp = neg.flip(0).cumsum(0)
        out['f1_max'] = round(float((2 * tp / (n_pos + tp + fp)).max()), 4)
    if n_pos > 0 and n_neg > 0:
        fpr, tpr = _curve(neg, pos, n_pos)
        out['auroc'] = round(_area(fpr, tpr), 4)
        fpr, pro_rate = _curve(neg, pro, float(regions))
        out['aupro'] = round(_area(fpr, pro_rate, fpr_limit) / fpr_limit, 4)
    return out
