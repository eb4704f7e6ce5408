from typing import Sequence

from torch import nn

from mmwsss.registry import CAM_METHODS
from .base_cam import BaseCAM
from .multi_scale_cam import wrap_multi_scale


def build_cam(method: str, model: nn.Module, target_layers: Sequence[str], scales: Sequence[float] = (1.0, ),
              flip: bool = False, **kwargs) -> BaseCAM:
    """Build a CAM method by its registered name (e.g. ``'gradcam'``); ``scales`` / ``flip`` other than
    ``(1.0, )`` / False wrap it in a :class:`~mmwsss.cam.multi_scale_cam.MultiScaleCAM` (any method)."""
    if method not in CAM_METHODS.module_dict:
        raise KeyError(f'unknown CAM method {method!r}; available: {sorted(CAM_METHODS.module_dict)}')
    return wrap_multi_scale(CAM_METHODS.get(method)(model, target_layers, **kwargs), scales, flip)
