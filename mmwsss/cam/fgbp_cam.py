"""Region-Aware CAM: FGBP per-layer maps fused by a region-aware weighting (our design of arXiv 2506.22866).

1. **FGBP.** The class score is back-propagated with :func:`filter_gradient` applied at every filter point
   (each ReLU module, or each target-layer output), so only defect-relevant paths reach shallow layers.
2. **Per-layer maps** (LayerCAM-style, element-wise): ``M_l = ReLU(sum_c ReLU(g~_c(i,j)) A_c(i,j))`` with
   ``g~`` the filtered gradient at layer ``l``.
3. **Region-aware fusion.** The deepest map gives the salient-region prior
   ``R = minmax(up(M_deep)) ** gamma``; every layer contributes inside it:
   ``sum``: ``sum_l w_l minmax(up(M_l)) * R``, ``max``: ``max_l w_l minmax(up(M_l)) * R``,
   ``product``: ``prod_l minmax(up(M_l)) ** w_l * R``; the result is min-max scaled.
"""
from typing import List, Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmwsss.registry import CAM_METHODS
from .base_cam import BaseCAM, minmax_scale
from .gradient_filter import CRITERIA, filter_gradient

FUSIONS = ('sum', 'max', 'product')


@CAM_METHODS.register_module(name=['racam', 'RegionAwareCAM', 'fgbp'])
class RegionAwareCAM(BaseCAM):
    """FGBP + region-aware multi-layer fusion.

    Args:
        target_layers: layers whose maps are fused, shallow to deep (the last one is the prior).
        q: FGBP quantile (keep the top ``1 - q`` per sample); ``None`` disables filtering.
        criterion: ``'grad'`` or ``'grad_x_act'``.
        guided: keep only positive gradients at filter points.
        filter_points: ``'relu'`` (every ``nn.ReLU`` of the module holding the target layers), ``'layers'``
            (the target-layer outputs only) or a list of module names.
        fusion: ``'sum'``, ``'max'`` or ``'product'``.
        layer_weights: one weight per target layer (default: equal).
        gamma: sharpening power of the region prior; ``0`` disables the prior.
    """

    def __init__(self,
                 model: nn.Module,
                 target_layers: Sequence[str],
                 forward_fn=None,
                 q: Optional[float] = 0.5,
                 criterion: str = 'grad_x_act',
                 guided: bool = True,
                 filter_points='relu',
                 fusion: str = 'sum',
                 layer_weights: Optional[Sequence[float]] = None,
                 gamma: float = 1.0) -> None:
        super().__init__(model, target_layers, forward_fn)
        if q is not None and not 0.0 <= q < 1.0:
            raise ValueError(f'q must be in [0, 1) or None, got {q}')
        if criterion not in CRITERIA:
            raise ValueError(f'criterion must be one of {CRITERIA}, got {criterion!r}')
        if fusion not in FUSIONS:
            raise ValueError(f'fusion must be one of {FUSIONS}, got {fusion!r}')
        if layer_weights is not None and len(layer_weights) != len(self.target_layers):
            raise ValueError(f'{len(layer_weights)} layer_weights for {len(self.target_layers)} target layers')
        if gamma < 0:
            raise ValueError(f'gamma must be >= 0, got {gamma}')
        self.q, self.criterion, self.guided = q, criterion, guided
        self.fusion, self.gamma = fusion, gamma
        self.layer_weights = list(layer_weights) if layer_weights is not None else [1.0] * len(self.target_layers)
        self.filter_modules = self._resolve_filter_points(filter_points)

    def _resolve_filter_points(self, filter_points) -> List[nn.Module]:
        if filter_points == 'layers':
            return list(self.target_layers)
        if filter_points == 'relu':
            # every ReLU of the module holding the target layers (e.g. the whole backbone, stem included)
            first = self.target_layer_names[0]
            root = self.model.get_submodule(first.rsplit('.', 1)[0]) if '.' in first else self.model
            return [m for m in root.modules() if isinstance(m, nn.ReLU)]
        if isinstance(filter_points, (list, tuple)):
            return [self.model.get_submodule(name) for name in filter_points]
        raise ValueError(f"filter_points must be 'relu', 'layers' or a list of module names, got {filter_points!r}")

    def _filter(self, grad: Tensor, act: Tensor) -> Tensor:
        if self.q is None:
            return grad.clamp(min=0) if self.guided else grad
        return filter_gradient(grad, act, self.q, self.criterion, self.guided)

    def forward_features(self, inputs: Tensor):
        handles = []

        def install(_module, _args, output):
            out = output[0] if isinstance(output, (tuple, list)) else output
            if out.requires_grad:
                act = out.detach().clone()
                out.register_hook(lambda g, a=act: self._filter(g, a))

        if self.q is not None or self.guided:
            handles = [m.register_forward_hook(install) for m in self.filter_modules]
        try:
            return super().forward_features(inputs)
        finally:
            for h in handles:
                h.remove()

    def get_cam_weights(self, activations: Tensor, gradients: Tensor, class_idx: int) -> Tensor:
        # autograd.grad returns a tensor's gradient before its own hook ran: filter it the same way
        return self._filter(gradients, activations).clamp(min=0)

    def aggregate_layers(self, layer_maps: List[Tensor], size) -> Tensor:
        maps = [
            F.interpolate(minmax_scale(F.relu(m)).unsqueeze(1), size=size, mode='bilinear',
                          align_corners=False)[:, 0] for m in layer_maps
        ]
        prior = maps[-1].pow(self.gamma) if self.gamma > 0 else torch.ones_like(maps[-1])
        weights = self.layer_weights
        if self.fusion == 'sum':
            fused = sum(w * m for w, m in zip(weights, maps))
        elif self.fusion == 'max':
            fused = torch.stack([w * m for w, m in zip(weights, maps)]).amax(0)
        else:
            fused = torch.stack([m.clamp(min=1e-6).pow(w) for w, m in zip(weights, maps)]).prod(0)
        return minmax_scale(fused * prior)
