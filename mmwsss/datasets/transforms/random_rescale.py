"""``RandomRescale`` (mmseg TRANSFORMS): rescale image and masks by a factor drawn around native size.

mmseg's ``RandomResize`` scales towards a fixed target size, which changes every image's resolution by a
different amount (MTD images are 103-632 px wide). Small defects need their native pixels: this transform
draws ``s ~ U(ratio_range)`` and resizes by ``s`` relative to the image itself (aspect ratio kept; masks
nearest-neighbour), so training sees native resolution give or take the jitter.
"""
from typing import Tuple

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS


def rescale_results(results: dict, scale: float, interpolation: str) -> dict:
    """Resize ``img`` (``interpolation``) and every key in ``seg_fields`` (nearest) by ``scale``:
    ``(H, W) -> (max(1, round(s H)), max(1, round(s W)))``; sets ``img_shape`` and ``scale_factor`` (w, h)."""
    h, w = results['img'].shape[:2]
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    results['img'] = mmcv.imresize(results['img'], size, interpolation=interpolation)
    for key in results.get('seg_fields', []):
        results[key] = mmcv.imresize(results[key], size, interpolation='nearest')
    results['img_shape'] = results['img'].shape[:2]
    results['scale_factor'] = (size[0] / w, size[1] / h)
    return results


@TRANSFORMS.register_module()
class RandomRescale(BaseTransform):
    """Args:
        ratio_range: (low, high) of the uniform scale factor, 0 < low <= high.

    Modifies ``img``, ``gt_seg_map`` (and every key in ``seg_fields``), ``img_shape``, ``scale_factor``.
    """

    def __init__(self, ratio_range: Tuple[float, float] = (0.8, 1.25)) -> None:
        low, high = ratio_range
        if not 0 < low <= high:
            raise ValueError(f'RandomRescale ratio_range must satisfy 0 < low <= high, got {ratio_range}')
        self.ratio_range = (float(low), float(high))

    def transform(self, results: dict) -> dict:
        return rescale_results(results, float(np.random.uniform(*self.ratio_range)), 'bilinear')

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(ratio_range={self.ratio_range})'
