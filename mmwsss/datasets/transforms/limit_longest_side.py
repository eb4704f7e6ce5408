"""``LimitLongestSide`` (mmseg TRANSFORMS): scale an image down so that its longest side is at most ``max_side``.

The small-defect recipe trains and infers at native resolution (``RandomRescale`` + ``DefectCenteredCrop``
for training, the whole image at test time). A camera image of several thousand pixels would make whole-image
inference slow and the recipe's 128 px crops a keyhole view. This transform keeps native resolution for images
up to ``max_side`` and scales larger ones down by ``s = max_side / max(H, W)`` (aspect ratio kept, masks
nearest-neighbour); it never upscales. Put it after ``LoadAnnotations`` in a training pipeline and before it in a
test pipeline: mmseg resizes predictions back to ``ori_shape``, where the test GT stays.
"""
import numbers

from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS

from .random_rescale import rescale_results


@TRANSFORMS.register_module()
class LimitLongestSide(BaseTransform):
    """``(H, W) -> (round(s H), round(s W))`` with ``s = max_side / max(H, W)`` when ``max(H, W) > max_side``.

    Args:
        max_side: the longest side (px) an image keeps; larger images are scaled down to it.

    Modifies ``img``, every key in ``seg_fields``, ``img_shape``, ``scale_factor`` (images that fit: untouched).
    """

    def __init__(self, max_side: int) -> None:
        if not isinstance(max_side, numbers.Integral) or isinstance(max_side, bool) or max_side < 1:
            raise ValueError(f'LimitLongestSide max_side must be a positive integer, got {max_side!r}')
        self.max_side = int(max_side)

    def transform(self, results: dict) -> dict:
        longest = max(results['img'].shape[:2])
        if longest <= self.max_side:
            return results
        return rescale_results(results, self.max_side / longest, 'area')

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(max_side={self.max_side})'
