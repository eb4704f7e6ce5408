"""Filtering-guided backpropagation (FGBP): the gradient filter applied at chosen points of the backward pass.

At a filter point with activation ``a`` (N, ...) and incoming gradient ``g``, FGBP keeps, per sample, only
the entries whose importance ``s`` is positive and lies in the top ``1 - q`` fraction of the positive
importances (``s >= quantile_q(s | s > 0)``; post-ReLU activations are mostly zero, so a quantile over all
entries would be 0 and keep everything) and, with the guided rule, only positive gradients; every other
entry is zeroed *before* it propagates further, so filtering compounds toward shallow, high-resolution
layers. Importance is ``|g|`` (``'grad'``) or ``g * a`` (``'grad_x_act'``, as RectGrad, Kim et al. 2019,
which keeps a*g above the 98th percentile).
The quantile is exact up to ``max_samples`` entries per sample and estimated on an evenly strided,
deterministic subsample beyond (a full sort at every ReLU of a high-resolution layer dominates the cost).
"""
import math

import torch
from torch import Tensor

CRITERIA = ('grad', 'grad_x_act')


MAX_SAMPLES = 4096


def filter_gradient(grad: Tensor, activation: Tensor, q: float, criterion: str = 'grad_x_act',
                    guided: bool = True, max_samples: int = MAX_SAMPLES) -> Tensor:
    """Zero all but the per-sample top ``1 - q`` fraction of ``grad`` by importance.

    Args:
        grad, activation: (N, ...) tensors of the same shape.
        q: quantile in [0, 1) of the positive importances; ``q = 0`` keeps everything (but still applies
            the guided rule).
        criterion: ``'grad'`` (|g|) or ``'grad_x_act'`` (g * a).
        guided: also zero negative gradients.
        max_samples: entries per sample the quantile is computed on (strided subsample beyond).
    Returns:
        the filtered gradient, same shape; an all-zero gradient stays all zero.
    """
    if not 0.0 <= q < 1.0:
        raise ValueError(f'q must be in [0, 1), got {q}')
    if criterion not in CRITERIA:
        raise ValueError(f'criterion must be one of {CRITERIA}, got {criterion!r}')
    keep = grad > 0 if guided else torch.ones_like(grad, dtype=torch.bool)
    if q > 0:
        score = grad.abs() if criterion == 'grad' else grad * activation
        positive = score > 0
        flat_score, flat_positive = score.flatten(1), positive.flatten(1)
        if flat_score.shape[1] > max_samples:
            step = math.ceil(flat_score.shape[1] / max_samples)
            flat_score, flat_positive = flat_score[:, ::step], flat_positive[:, ::step]
        flat = torch.where(flat_positive, flat_score, torch.full_like(flat_score, float('nan')))
        thr = torch.nanquantile(flat, q, dim=1).nan_to_num(float('inf')).view(-1, *([1] * (grad.dim() - 1)))
        keep &= positive & (score >= thr)  # nothing of zero importance survives: zero inputs stay zero
    return grad * keep
