"""Classifier-consistent choice between candidate CAM regions (erasure test): batched, no mask, no tuned number.

The image-adaptive refinement spreads a map along look-alike pixels: right for a stain whose raw CAM lit only its
core, wrong for a crack whose raw map already covered it and now runs along the tile's texture. Region growth
cannot tell the two apart; this asks the classifier. For every requested (image ``n``, class ``k``) and candidate map
``M^c`` (raw, refined), the candidate region is the map's Otsu cut ``R^c = {M^c >= otsu(M^c)}``, and the
classifier scores the image with that region erased (its pixels set to the image's per-channel mean, in the
preprocessed space, i.e. plain surface):

    p^c = sigmoid( logit_k( x_n * (1 - R^c) + mean(x_n) * R^c ) )

The chosen map is that of the smallest region whose erasure takes class ``k`` below the classifier's decision
threshold (``p^c < score_thr``: the defect goes with it); when no candidate does, the one whose erasure removes
the most evidence (lowest ``p^c``). ``rule='evidence'`` takes the lowest ``p^c`` whatever the size. Cost: one
forward pass (no gradient) per candidate and requested map. Measured (docs/results.md, session (c)): it loses to
the plain refinement on MTD and on the synthetic set (the classifier's evidence sits in a region's core, so erasing
the raw core already removes a stain), so it is an ablation preset (``racam_erasure``), not the default.
"""
from typing import Callable, Sequence

import torch
from torch import Tensor

from .threshold_rules import otsu_thresholds

ERASURE_RULES = ('decision', 'evidence')


class ErasureSelection:
    """Args:
        forward_fn: ``f(inputs (M, 3, H, W)) -> logits (M, K)`` of the classifier that drew the maps.
        rule: ``'decision'`` (the module docstring's rule) or ``'evidence'`` (the candidate whose erasure leaves
            the lowest class logit, whatever its size).
        score_thr: the classifier's decision threshold on the sigmoid score (multi-label heads: 0.5).
        batch_size: erased images per forward pass.
    """

    def __init__(self, forward_fn: Callable[[Tensor], Tensor], rule: str = 'decision', score_thr: float = 0.5,
                 batch_size: int = 32) -> None:
        if rule not in ERASURE_RULES:
            raise ValueError(f'erasure rule must be one of {ERASURE_RULES}, got {rule!r}')
        self.rule = rule
        if not 0 < score_thr < 1:
            raise ValueError(f'erasure score_thr must be in (0, 1), got {score_thr}')
        if batch_size < 1:
            raise ValueError(f'erasure batch_size must be >= 1, got {batch_size}')
        self.forward_fn, self.score_thr, self.batch_size = forward_fn, float(score_thr), int(batch_size)

    @torch.no_grad()
    def erased_scores(self, inputs: Tensor, regions: Tensor, image_idx: Tensor, class_idx: Tensor) -> Tensor:
        """(N, 3, H, W) inputs, (M, H, W) bool regions of images ``image_idx`` (M,) -> (M,) logits of
        classes ``class_idx`` (M,) with each region erased to its image's per-channel mean."""
        scores = []
        for start in range(0, regions.shape[0], self.batch_size):
            sl = slice(start, start + self.batch_size)
            x = inputs[image_idx[sl]]
            fill = x.mean((2, 3), keepdim=True).expand_as(x)
            erased = torch.where(regions[sl].unsqueeze(1), fill, x)
            logits = self.forward_fn(erased)
            logits = logits[-1] if isinstance(logits, (tuple, list)) else logits
            scores.append(logits.float().gather(1, class_idx[sl, None])[:, 0])
        return torch.cat(scores)

    def __call__(self, inputs: Tensor, candidates: Sequence[Tensor], class_mask: Tensor) -> Tensor:
        """(N, 3, H, W) inputs, C candidate maps (N, K, H, W) in [0, 1], (N, K) bool -> (N, K, H, W) chosen maps."""
        if not candidates:
            raise ValueError('ErasureSelection needs at least one candidate map')
        out = torch.zeros_like(candidates[0])
        n, k = class_mask.bool().nonzero(as_tuple=True)  # P requested pairs
        if not n.numel():
            return out
        maps = torch.stack([c[n, k].float() for c in candidates])  # (C, P, H, W)
        num_cand, pairs = maps.shape[:2]
        flat = maps.flatten(0, 1)  # (C * P, H, W)
        regions = flat >= otsu_thresholds(flat)[:, None, None]
        scores = self.erased_scores(inputs, regions, n.repeat(num_cand), k.repeat(num_cand)).view(num_cand, pairs)
        area = regions.flatten(1).float().mean(1).view(num_cand, pairs)  # in [0, 1]
        if self.rule == 'evidence':
            key = scores
        else:  # smallest region that removes the class (key = area <= 1); else the lowest score (key > 1)
            prob = scores.sigmoid()
            key = torch.where(prob < self.score_thr, area, 1.0 + prob)
        choice = key.argmin(0)  # (P,)
        out[n, k] = maps[choice, torch.arange(pairs, device=maps.device)].to(out.dtype)
        return out


__all__ = ['ErasureSelection', 'ERASURE_RULES']
