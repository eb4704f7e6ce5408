"""Region-Aware CAM: FGBP per-layer maps fused by a region-aware weighting (our design of arXiv 2506.22866).

1. **FGBP.** The class score is back-propagated with :func:`filter_gradient` applied at every filter point
   (each ReLU module, or each target-layer output), so only defect-relevant paths reach shallow layers.
2. **Per-layer maps** (LayerCAM-style, element-wise): ``M_l = ReLU(sum_c ReLU(g~_c(i,j)) A_c(i,j))`` with
   ``g~`` the filtered gradient at layer ``l``.
3. **Region-aware fusion** (:mod:`.region_aware_fusion`, the classifier's neck's options): the deepest map gives the
   salient-region prior, the shallower maps add detail only inside it (formulas in that module). All maps
   are upsampled to the input with receptive-field alignment (:func:`upsample_maps`, ``'aligned'``).
"""
from typing import List, Optional, Sequence

import torch
from mmengine.model import is_model_wrapper
from torch import Tensor, nn

from mmwsss.registry import CAM_METHODS
from .base_cam import BaseCAM
from .gradient_filter import CRITERIA, filter_gradient
from .guided_grad_cam import RECTIFIERS
from .region_aware_fusion import RegionAwareFusion


@CAM_METHODS.register_module(name=['racam', 'RegionAwareCAM', 'fgbp'])
class RegionAwareCAM(BaseCAM):
    """FGBP + region-aware multi-layer fusion.

    Args:
        target_layers: layers whose maps are fused, shallow to deep (the last one is the prior).
        q: FGBP quantile (keep the top ``1 - q`` per sample); ``None`` disables filtering.
        criterion: ``'grad'`` or ``'grad_x_act'``.
        guided: keep only positive gradients at filter points.
        filter_points: ``'relu'`` (every ``nn.ReLU`` / ``nn.ReLU6`` of the module holding the target layers),
            ``'layers'`` (the target-layer outputs only) or a list of module names.
        filter_deepest: filter also at and inside the deepest target layer. ``False`` keeps the raw
            gradient for the deepest map (the region prior) and filters only on the way to the shallow
            layers.
        upsample: ``'aligned'`` (default: receptive-field centres) or ``'bilinear'``.
        fuser: the :class:`~mmwsss.cam.region_aware_fusion.RegionAwareFusion` doing the fusion. Default: the
            classifier's own (its :class:`~mmwsss.models.RegionAwareWeightingNeck`'s, with ``fusion_cfg``
            overriding its options), else one built from ``fusion_cfg``.
        **fusion_cfg: options of :class:`~mmwsss.cam.region_aware_fusion.RegionAwareFusion` (``fusion``,
            ``layer_weights``, ``gamma``, ``detail_weight``, ``prior``, ``gate_thr``, ``extent_scale``,
            ``extent_mode``, ``detail_power``).
    """

    def __init__(self,
                 model: nn.Module,
                 target_layers: Sequence[str],
                 forward_fn=None,
                 q: Optional[float] = 0.5,
                 criterion: str = 'grad_x_act',
                 guided: bool = True,
                 filter_points='relu',
                 filter_deepest: bool = True,
                 upsample: Optional[str] = None,
                 fuser: Optional[RegionAwareFusion] = None,
                 **fusion_cfg) -> None:
        inner = model.module if is_model_wrapper(model) else model
        # the classifier's own fusion (a RegionAwareWeightingNeck holds it); options given here override it
        own = getattr(getattr(inner, 'neck', None), 'fuser', None)
        if fuser is not None and fusion_cfg:
            raise ValueError(f'give either a fuser or fusion options, not both: {sorted(fusion_cfg)}')
        if fuser is None and isinstance(own, RegionAwareFusion):
            fuser = RegionAwareFusion(**dict(own.options, **fusion_cfg)) if fusion_cfg else own
        if fuser is None:
            fuser = RegionAwareFusion(upsample=upsample or 'aligned', **fusion_cfg)
        if upsample is not None and upsample != fuser.upsample:
            raise ValueError(f'upsample={upsample!r} differs from the classifier fusion\'s {fuser.upsample!r}')
        super().__init__(model, target_layers, forward_fn, fuser.upsample)
        if q is not None and not 0.0 <= q < 1.0:
            raise ValueError(f'q must be in [0, 1) or None, got {q}')
        if criterion not in CRITERIA:
            raise ValueError(f'criterion must be one of {CRITERIA}, got {criterion!r}')
        num_shallow = len(self.target_layers) - 1
        if fuser.layer_weights is not None and len(fuser.layer_weights) != num_shallow:
            raise ValueError(f'{len(fuser.layer_weights)} layer_weights for {num_shallow} shallow target layers')
        self.fuser = fuser
        self.q, self.criterion, self.guided = q, criterion, guided
        self.filter_modules = self._resolve_filter_points(filter_points)
        if not filter_deepest:
            # the deepest map (the region prior) keeps the raw gradient: no filter at or inside its layer
            inside = set(map(id, self.target_layers[-1].modules()))
            self.filter_modules = [m for m in self.filter_modules if id(m) not in inside]
        self.filter_deepest = filter_deepest

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

    def _make_filter(self, out: Tensor):
        """Gradient hook filtering with ``out``'s forward value (no copy: its version is checked instead)."""
        act, version = out.detach(), out._version

        def hook(grad: Tensor) -> Tensor:
            if act._version != version:
                raise RuntimeError('FGBP: a filter point\'s output was modified in place after the filter was '
                                   'installed; use filter_points=\'layers\' or non-inplace activations')
            return self._filter(grad, act)

        return hook

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
                out.register_hook(self._make_filter(out))

        def install_recorder(index: int, apply_filter: bool):

            def hook(_module, _args, output):
                out = output[0] if isinstance(output, (tuple, list)) else output
                if not out.requires_grad:
                    return
                filt = self._make_filter(out) if apply_filter else None

                def record(g):
                    g = filt(g) if apply_filter else g
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
        """Region-aware fusion (see :mod:`mmwsss.cam.region_aware_fusion`)."""
        return self.fuser(layer_maps, size)
