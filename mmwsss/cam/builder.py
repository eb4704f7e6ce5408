from typing import Optional, Sequence

from torch import nn

from mmwsss.registry import CAM_METHODS
from .base_cam import BaseCAM
from .multi_scale_cam import wrap_multi_scale
from .pixel_adaptive_refinement import PixelAdaptiveRefinement, RefinedCAM


def build_cam(method: str, model: nn.Module, target_layers: Sequence[str], scales: Sequence[float] = (1.0, ),
              flip: bool = False, refine: Optional[dict] = None, **kwargs) -> BaseCAM:
    """Build a CAM method by its registered name (e.g. ``'gradcam'``); ``scales`` / ``flip`` other than
    ``(1.0, )`` / False wrap it in a :class:`~mmwsss.cam.multi_scale_cam.MultiScaleCAM`, ``refine`` (options of
    :class:`~mmwsss.cam.pixel_adaptive_refinement.PixelAdaptiveRefinement`, ``{}`` for its defaults) refines
    the result with the image (any method)."""
    if method not in CAM_METHODS.module_dict:
        raise KeyError(f'unknown CAM method {method!r}; available: {sorted(CAM_METHODS.module_dict)}')
    cam = wrap_multi_scale(CAM_METHODS.get(method)(model, target_layers, **kwargs), scales, flip)
    return cam if refine is None else RefinedCAM(cam, PixelAdaptiveRefinement(**refine))
