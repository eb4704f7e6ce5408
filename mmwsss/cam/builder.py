from typing import Sequence

from torch import nn

from mmwsss.registry import CAM_METHODS
from .base_cam import BaseCAM


def build_cam(method: str, model: nn.Module, target_layers: Sequence[str], **kwargs) -> BaseCAM:
    """Build a CAM method by its registered name (e.g. ``'gradcam'``)."""
    if method not in CAM_METHODS.module_dict:
        raise KeyError(f'unknown CAM method {method!r}; available: {sorted(CAM_METHODS.module_dict)}')
    return CAM_METHODS.get(method)(model, target_layers, **kwargs)
