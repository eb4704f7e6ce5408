"""Region-aware fusion of per-layer CAMs, the fusion step of Region-Aware CAM (our design of arXiv 2506.22866).

Per-layer maps ``M_l`` (shallow to deep) become one map at input resolution. With
``U_l = minmax(up(ReLU(M_l)))`` (receptive-field aligned upsampling):

    prior     R = U_deep ** gamma                    ('power')
              R = min(1, U_deep / gate_thr) ** gamma ('gate': the whole salient region gets full weight)
    detail    D = sum_l w_l U_l | max_l w_l U_l / max w | prod_l U_l ** w_l     (fusion sum | max | product)
    weight    beta = detail_weight * clamp(1 - e / extent_scale, 0, 1)   ('linear'; 'step': e < extent_scale)
              e = fraction of the image where U_deep >= 0.5 (per image and class)
    M = minmax( R * ((1 - beta) * U_deep + beta * D ** detail_power) )

Shallow maps add detail only inside the deep map's salient region and are suppressed outside it; small
regions (pits, cracks) are drawn by the shallow maps, large ones (stains) by the deep map. A classifier owns
its fusion through :class:`~mmwsss.models.RegionAwareWeightingNeck` (which holds one of these); this module
is the arithmetic only, so the CAM methods need nothing from ``mmwsss.models``.
"""
from typing import List, Optional, Sequence, Tuple

import torch
from torch import Tensor

from .base_cam import UPSAMPLE_MODES, minmax_scale, upsample_maps

FUSIONS = ('sum', 'max', 'product')
PRIORS = ('power', 'gate')
EXTENT_MODES = ('linear', 'step')
FUSION_OPTIONS = ('fusion', 'layer_weights', 'gamma', 'detail_weight', 'prior', 'gate_thr', 'extent_scale',
                  'extent_mode', 'detail_power', 'upsample')


class RegionAwareFusion:
    """Args:
        fusion: ``'sum'``, ``'max'`` or ``'product'`` over the shallow maps.
        layer_weights: one weight per shallow layer (default: equal); checked against the maps at fusion.
        gamma: sharpening power of the prior; ``0`` disables the prior (``R = 1``).
        detail_weight: ``beta`` in [0, 1]; 0 uses the deep map alone.
        prior: ``'power'`` or ``'gate'``.
        gate_thr: where the gate saturates, in (0, 1].
        extent_scale: if set, ``beta`` adapts per image and class to the salient region's extent.
        extent_mode: ``'linear'`` or ``'step'``.
        detail_power: ``p`` in ``D ** p`` (> 0).
        upsample: ``'aligned'`` (receptive-field centres) or ``'bilinear'``.
    """

    def __init__(self,
                 fusion: str = 'sum',
                 layer_weights: Optional[Sequence[float]] = None,
                 gamma: float = 1.0,
                 detail_weight: float = 0.5,
                 prior: str = 'power',
                 gate_thr: float = 0.5,
                 extent_scale: Optional[float] = None,
                 extent_mode: str = 'linear',
                 detail_power: float = 1.0,
                 upsample: str = 'aligned') -> None:
        if fusion not in FUSIONS:
            raise ValueError(f'fusion must be one of {FUSIONS}, got {fusion!r}')
        if layer_weights is not None and (len(layer_weights) == 0 or min(layer_weights) < 0
                                          or sum(layer_weights) <= 0):
            raise ValueError(f'layer_weights must be non-negative with a positive sum, got {layer_weights}')
        if gamma < 0:
            raise ValueError(f'gamma must be >= 0, got {gamma}')
        if not 0.0 <= detail_weight <= 1.0:
            raise ValueError(f'detail_weight must be in [0, 1], got {detail_weight}')
        if prior not in PRIORS:
            raise ValueError(f'prior must be one of {PRIORS}, got {prior!r}')
        if not 0.0 < gate_thr <= 1.0:
            raise ValueError(f'gate_thr must be in (0, 1], got {gate_thr}')
        if extent_scale is not None and extent_scale <= 0:
            raise ValueError(f'extent_scale must be > 0 or None, got {extent_scale}')
        if extent_mode not in EXTENT_MODES:
            raise ValueError(f'extent_mode must be one of {EXTENT_MODES}, got {extent_mode!r}')
        if detail_power <= 0:
            raise ValueError(f'detail_power must be > 0, got {detail_power}')
        if upsample not in UPSAMPLE_MODES:
            raise ValueError(f'upsample must be one of {UPSAMPLE_MODES}, got {upsample!r}')
        self.fusion = fusion
        self.layer_weights = None if layer_weights is None else [float(w) for w in layer_weights]
        self.gamma, self.detail_weight = gamma, detail_weight
        self.prior, self.gate_thr = prior, gate_thr
        self.extent_scale, self.extent_mode = extent_scale, extent_mode
        self.detail_power, self.upsample = detail_power, upsample

    @property
    def options(self) -> dict:
        """The constructor arguments, to build a variant: ``RegionAwareFusion(**dict(f.options, gamma=0))``."""
        return {key: getattr(self, key) for key in FUSION_OPTIONS}

    def scaled_maps(self, layer_maps: List[Tensor], size: Tuple[int, int]) -> List[Tensor]:
        """``[(N, h_l, w_l)] -> [(N, H, W)]``: ReLU, per-map min-max scaling, upsampling."""
        return [upsample_maps(minmax_scale(m.clamp(min=0)), size, self.upsample) for m in layer_maps]

    def __call__(self, layer_maps: List[Tensor], size: Tuple[int, int]) -> Tensor:
        """Fuse per-layer maps, shallow to deep, ``[(N, h_l, w_l)]``, into ``(N, H, W)`` in [0, 1]."""
        if not layer_maps:
            raise ValueError('region-aware fusion needs at least one layer map')
        maps = self.scaled_maps(layer_maps, size)
        deep, shallow = maps[-1], maps[:-1]
        region = (deep / self.gate_thr).clamp(max=1.0) if self.prior == 'gate' else deep
        prior = region.pow(self.gamma) if self.gamma > 0 else torch.ones_like(deep)
        if not shallow or self.detail_weight == 0:
            return minmax_scale(prior * deep)
        weights = self.layer_weights if self.layer_weights is not None else [1.0] * len(shallow)
        if len(weights) != len(shallow):
            raise ValueError(f'{len(weights)} layer_weights for {len(shallow)} shallow layer maps')
        w = torch.tensor(weights, dtype=deep.dtype, device=deep.device)
        w = (w / w.sum())[:, None, None, None]
        stack = torch.stack(shallow)  # (L-1, N, H, W)
        if self.fusion == 'sum':
            detail = (w * stack).sum(0)
        elif self.fusion == 'max':
            detail = (w * stack).amax(0) / w.max()
        else:
            detail = stack.clamp(min=1e-6).pow(w).prod(0)
        if self.detail_power != 1.0:
            detail = detail.clamp(min=0).pow(self.detail_power)
        beta = torch.full_like(deep[:, :1, :1], self.detail_weight)
        if self.extent_scale is not None:
            extent = (deep >= 0.5).to(deep.dtype).mean(dim=(1, 2), keepdim=True)
            if self.extent_mode == 'step':
                beta = beta * (extent < self.extent_scale).to(deep.dtype)
            else:
                beta = beta * (1 - extent / self.extent_scale).clamp(0, 1)
        return minmax_scale(prior * ((1 - beta) * deep + beta * detail))
