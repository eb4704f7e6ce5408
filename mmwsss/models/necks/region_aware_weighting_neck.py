"""Region-aware weighting neck: where a classifier keeps the fusion step of Region-Aware CAM.

Train / predict time the neck passes the backbone's spatial feature maps through unchanged, so the
classification head (:class:`~mmwsss.models.FGBPCAMHead`) pools them itself and CAM hooks see spatial
activations. CAM time :meth:`RegionAwareWeightingNeck.fuse` fuses the per-layer maps with the options this
neck was configured with (formulas in :mod:`mmwsss.cam.region_aware_fusion`); RA-CAM uses the classifier's
own neck, so ``model.neck.gamma=0`` in a config is an ablation of the fusion.
"""
from typing import List, Tuple

from mmengine.model import BaseModule
from mmpretrain.registry import MODELS
from torch import Tensor

from mmwsss.cam.region_aware_fusion import FUSION_OPTIONS, RegionAwareFusion


@MODELS.register_module()
class RegionAwareWeightingNeck(BaseModule):
    """Spatial pass-through for training, region-aware multi-layer CAM fusion for CAMs.

    Args:
        init_cfg: as any mmengine module (the neck has no parameters).
        **fusion_options: of :class:`~mmwsss.cam.region_aware_fusion.RegionAwareFusion` (``fusion``,
            ``layer_weights``, ``gamma``, ``detail_weight``, ``prior``, ``gate_thr``, ``extent_scale``,
            ``extent_mode``, ``detail_power``, ``upsample``).
    """

    def __init__(self, init_cfg=None, **fusion_options) -> None:
        super().__init__(init_cfg)
        # validated once; kept as plain attributes so `neck.gamma = 0` is an ablation like the config key
        for key, value in RegionAwareFusion(**fusion_options).options.items():
            setattr(self, key, value)

    @property
    def options(self) -> dict:
        """The fusion options (what the pseudo-label manifest records)."""
        return {key: getattr(self, key) for key in FUSION_OPTIONS}

    @property
    def fuser(self) -> RegionAwareFusion:
        """The fusion with this neck's current options (what RA-CAM fuses with)."""
        return RegionAwareFusion(**self.options)

    def forward(self, inputs: Tuple[Tensor, ...]) -> Tuple[Tensor, ...]:
        """Train / predict path: the backbone's ``(N, C_i, h_i, w_i)`` maps, unchanged (the head pools)."""
        return inputs

    def fuse(self, layer_maps: List[Tensor], size: Tuple[int, int]) -> Tensor:
        """Fuse per-layer maps, shallow to deep, ``[(N, h_l, w_l)]``, into ``(N, H, W)`` in [0, 1]."""
        return self.fuser(layer_maps, size)
