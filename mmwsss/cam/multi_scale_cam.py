"""``MultiScaleCAM``: any CAM method averaged over rescaled (and mirrored) copies of the batch.

Upscaling gives a small defect more feature cells at the classifier's stride; the mirror averages out the
asymmetry of strided convolutions. For scales ``s`` and flips ``f`` (identity, horizontal mirror):

    M = minmax( mean_{s, f}  up_{H x W}( f^-1( CAM( f( resize_s(x) ) ) ) ) )

with ``resize_s`` bilinear (``align_corners=False``) to ``round(s * (H, W))``; each term is the wrapped
method's own min-max scaled map, so thresholds keep their meaning. Every term is one batched call of the
wrapped method (cost ~ sum_s s^2, times 2 with ``flip``).
"""
from typing import Sequence

import torch.nn.functional as F
from torch import Tensor

from .base_cam import BaseCAM, minmax_scale


class MultiScaleCAM:
    """Args:
        cam: the wrapped CAM method.
        scales: input scales (> 0), e.g. (1.0, 1.5, 2.0).
        flip: also average the horizontally mirrored batch.
    """

    def __init__(self, cam: BaseCAM, scales: Sequence[float] = (1.0, ), flip: bool = False) -> None:
        scales = [float(s) for s in scales]
        if not scales or min(scales) <= 0:
            raise ValueError(f'CAM scales must be a non-empty list of positive numbers, got {scales}')
        self.cam, self.scales, self.flip = cam, scales, bool(flip)

    def __getattr__(self, name):  # target layers, model ... of the wrapped method
        if name == 'cam':
            raise AttributeError(name)
        return getattr(self.cam, name)

    def __call__(self, inputs: Tensor, class_mask: Tensor) -> Tensor:
        """(N, 3, H, W) inputs, (N, K) bool mask -> (N, K, H, W) maps in [0, 1], zero where the mask is False."""
        size = inputs.shape[-2:]
        total = None
        for s in self.scales:
            x = inputs if s == 1.0 else F.interpolate(
                inputs, size=(max(1, round(size[0] * s)), max(1, round(size[1] * s))), mode='bilinear',
                align_corners=False)
            for mirrored in ((False, True) if self.flip else (False, )):
                maps = self.cam(x.flip(-1) if mirrored else x, class_mask)
                maps = maps.flip(-1) if mirrored else maps
                if maps.shape[-2:] != size:
                    maps = F.interpolate(maps, size=size, mode='bilinear', align_corners=False)
                total = maps if total is None else total + maps
        return minmax_scale(total) * class_mask[:, :, None, None].to(total.dtype)


def wrap_multi_scale(cam: BaseCAM, scales: Sequence[float] = (1.0, ), flip: bool = False):
    """``cam`` itself for the single scale without flip, else a :class:`MultiScaleCAM` around it."""
    if list(scales) == [1.0] and not flip:
        return cam
    return MultiScaleCAM(cam, scales, flip)


__all__ = ['MultiScaleCAM', 'wrap_multi_scale']
