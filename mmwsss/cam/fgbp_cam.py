"""Region-Aware CAM: FGBP per-layer maps fused by a region-aware weighting (our design of arXiv 2506.22866).

1. **FGBP.** The class score is back-propagated with :func:`filter_gradient` applied at every filter point
   (each ReLU module, or each target-layer output), so only defect-relevant paths reach shallow layers.
2. **Per-layer maps** (LayerCAM-style, element-wise): ``M_l = ReLU(sum_c ReLU(g~_c(i,j)) A_c(i,j))`` with
   ``g~`` the filtered gradient at layer ``l``.
3. **Region-aware fusion.** The deepest map gives the salient-region prior
   ``R = minmax(up(M_deep)) ** gamma``; the shallower maps give the detail ``D`` (``sum``: weighted mean
   of ``minmax(up(M_l))``, ``max``: weighted max, ``product``: weighted geometric mean) and contribute only
   inside the prior: ``M = minmax( R * ((1 - beta) * M_deep + beta * D) )``, with ``R = M_deep ** gamma``
   or, as a gate, ``R = min(1, M_deep / t) ** gamma``. ``beta`` (``detail_weight``) trades the
   deep map's coverage of large defects against the shallow maps' precision on small ones. All maps are
   upsampled to the input with receptive-field alignment (:func:`upsample_maps`, ``'aligned'``).
"""
from typing import List, Optional, Sequence

import torch
from torch import Tensor, nn

from mmwsss.registry import CAM_METHODS
from .base_cam import BaseCAM, minmax_scale
from .gradient_filter import CRITERIA, filter_gradient
from .guided_grad_cam import RECTIFIERS

FUSIONS = ('sum', 'max', 'product')


@CAM_METHODS.register_module(name=['racam', 'RegionAwareCAM', 'fgbp'])
class RegionAwareCAM(BaseCAM):
    """FGBP + region-aware multi-layer fusion.

    Args:
        target_layers: layers whose maps are fused, shallow to deep (the last one is the prior).
        q: FGBP quantile (keep the top ``1 - q`` per sample); ``None`` disables filtering.
        criterion: ``'grad'`` or ``'grad_x_act'``.
        guided: keep only positive gradients at filter points.
        filter_points: ``'relu'`` (every ``nn.ReLU`` / ``nn.ReLU6`` of the module holding the target layers), ``'layers'``
            (the target-layer outputs only) or a list of module names.
        fusion: ``'sum'``, ``'max'`` or ``'product'``.
        layer_weights: one weight per shallow target layer (all but the last; default: equal).
        gamma: sharpening power of the region prior; ``0`` disables the prior (``R = 1``).
        detail_weight: ``beta`` in [0, 1]; 0 uses the deep map alone.
        prior: ``'power'`` (``R = M_deep ** gamma``) or ``'gate'`` (``R = min(1, M_deep / gate_thr) ** gamma``:
            the whole salient region gets full weight, so shallow detail decides the shape inside it).
        gate_thr: where the gate saturates.
        extent_scale: if set, ``beta`` becomes per image and class: ``beta * clamp(1 - e / extent_scale, 0, 1)``
            with ``e`` the fraction of the image where the deep map is >= 0.5 (its salient region). Small
            regions (pits, cracks) are drawn by the shallow maps, large ones (stains) by the deep map.
        extent_mode: ``'linear'`` (above) or ``'step'``: ``beta`` if ``e < extent_scale`` else 0.
        detail_power: ``D ** p``; ``p < 1`` spreads the peaky shallow maps so that one global threshold
            suits detail-drawn (small) and deep-drawn (large) regions alike.
        upsample: ``'aligned'`` (default: receptive-field centres) or ``'bilinear'``.
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
                 gamma: float = 1.0,
                 detail_weight: float = 0.5,
                 prior: str = 'power',
                 gate_thr: float = 0.5,
                 extent_scale: Optional[float] = None,
                 extent_mode: str = 'linear',
                 detail_power: float = 1.0,
                 upsample: str = 'aligned') -> None:
        super().__init__(model, target_layers, forward_fn, upsample)
        if q is not None and not 0.0 <= q < 1.0:
            raise ValueError(f'q must be in [0, 1) or None, got {q}')
        if criterion not in CRITERIA:
            raise ValueError(f'criterion must be one of {CRITERIA}, got {criterion!r}')
        if fusion not in FUSIONS:
            raise ValueError(f'fusion must be one of {FUSIONS}, got {fusion!r}')
        num_shallow = len(self.target_layers) - 1
        if layer_weights is not None and len(layer_weights) != num_shallow:
            raise ValueError(f'{len(layer_weights)} layer_weights for {num_shallow} shallow target layers')
        if gamma < 0:
            raise ValueError(f'gamma must be >= 0, got {gamma}')
        if not 0.0 <= detail_weight <= 1.0:
            raise ValueError(f'detail_weight must be in [0, 1], got {detail_weight}')
        self.detail_weight = detail_weight
        if prior not in ('power', 'gate'):
            raise ValueError(f"prior must be 'power' or 'gate', got {prior!r}")
        if not 0.0 < gate_thr <= 1.0:
            raise ValueError(f'gate_thr must be in (0, 1], got {gate_thr}')
        self.prior, self.gate_thr = prior, gate_thr
        if extent_scale is not None and extent_scale <= 0:
            raise ValueError(f'extent_scale must be > 0 or None, got {extent_scale}')
        self.extent_scale = extent_scale
        if extent_mode not in ('linear', 'step'):
            raise ValueError(f"extent_mode must be 'linear' or 'step', got {extent_mode!r}")
        self.extent_mode = extent_mode
        if detail_power <= 0:
            raise ValueError(f'detail_power must be > 0, got {detail_power}')
        self.detail_power = detail_power
        self.q, self.criterion, self.guided = q, criterion, guided
        self.fusion, self.gamma = fusion, gamma
        self.layer_weights = list(layer_weights) if layer_weights is not None else [1.0] * num_shallow
        self.filter_modules = self._resolve_filter_points(filter_points)

    def _resolve_filter_points(self, filter_points) -> List[nn.Module]:
        if filter_points == 'layers':
            return list(self.target_layers)
        if filter_points == 'relu':
            # every ReLU of the module holding the target layers (e.g. the whole backbone, stem included)
            first = self.target_layer_names[0]
            root = self.model.get_submodule(first.rsplit('.', 1)[0]) if '.' in first else self.model
            return [m for m in root.modules() if isinstance(m, RECTIFIERS)]
        if isinstance(filter_points, (list, tuple)):
            return [self.model.get_submodule(name) for name in filter_points]
        raise ValueError(f"filter_points must be 'relu', 'layers' or a list of module names, got {filter_points!r}")

    def _filter(self, grad: Tensor, act: Tensor) -> Tensor:
        if self.q is None:
            return grad.clamp(min=0) if self.guided else grad
        return filter_gradient(grad, act, self.q, self.criterion, self.guided)

    def forward_features(self, inputs: Tensor):
        """Forward once, installing (a) the FGBP filter on every filter point's output and (b) on every
        target-layer output a recorder of the gradient that leaves it (after its filter), which is what the
        per-layer map uses. Tensor hooks on one tensor run in registration order, so (b) sees (a)'s result."""
        self._recorded: List[Optional[Tensor]] = [None] * len(self.target_layers)
        filtering = self.q is not None or self.guided
        targets = set(map(id, self.target_layers))

        def install_filter(_module, _args, output):
            out = output[0] if isinstance(output, (tuple, list)) else output
            if out.requires_grad:
                act = out.detach().clone()
                out.register_hook(lambda g, a=act: self._filter(g, a))

        def install_recorder(index: int, apply_filter: bool):

            def hook(_module, _args, output):
                out = output[0] if isinstance(output, (tuple, list)) else output
                if not out.requires_grad:
                    return
                act = out.detach().clone() if apply_filter else None

                def record(g):
                    g = self._filter(g, act) if apply_filter else g
                    self._recorded[index] = g
                    return g

                out.register_hook(record)

            return hook

        # a target layer that is also a filter point filters in its recorder (once, before recording)
        filter_ids = set(map(id, self.filter_modules)) if filtering else set()
        handles = [m.register_forward_hook(install_filter) for m in self.filter_modules
                   if filtering and id(m) not in targets]
        handles += [layer.register_forward_hook(install_recorder(i, id(layer) in filter_ids))
                    for i, layer in enumerate(self.target_layers)]
        try:
            return super().forward_features(inputs)
        finally:
            for h in handles:
                h.remove()

    def backward_gradients(self, score: Tensor, activations: List[Tensor]) -> List[Tensor]:
        self._recorded = [None] * len(activations)
        torch.autograd.grad(score, activations, retain_graph=True)
        return [torch.zeros_like(a) if g is None else g for a, g in zip(activations, self._recorded)]

    def get_cam_weights(self, activations: Tensor, gradients: Tensor, class_idx: int) -> Tensor:
        """Element-wise ``ReLU(g~)`` of the (already filtered) gradient leaving the layer."""
        return gradients.clamp(min=0)

    def aggregate_layers(self, layer_maps: List[Tensor], size) -> Tensor:
        maps = self.scaled_layer_maps(layer_maps, size)
        deep = maps[-1]
        region = (deep / self.gate_thr).clamp(max=1.0) if self.prior == 'gate' else deep
        prior = region.pow(self.gamma) if self.gamma > 0 else torch.ones_like(deep)
        shallow = maps[:-1]
        if not shallow or self.detail_weight == 0:
            return minmax_scale(prior * deep)
        w = torch.tensor(self.layer_weights, dtype=maps[0].dtype, device=maps[0].device)
        w = w / w.sum().clamp(min=1e-12)
        stack = torch.stack(shallow)  # (L-1, N, H, W)
        if self.fusion == 'sum':
            detail = (w[:, None, None, None] * stack).sum(0)
        elif self.fusion == 'max':
            detail = (w[:, None, None, None] * stack).amax(0) / w.max()
        else:
            detail = stack.clamp(min=1e-6).pow(w[:, None, None, None]).prod(0)
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
