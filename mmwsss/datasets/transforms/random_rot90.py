"""``RandomRot90`` (mmseg TRANSFORMS): rotate image and masks by k x 90 degrees, k uniform in {0, 1, 2, 3}.

Surface tiles have no orientation; together with horizontal / vertical flips this gives all eight
symmetries of the square, without the interpolation and padding of arbitrary-angle rotation.
"""
import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS


@TRANSFORMS.register_module()
class RandomRot90(BaseTransform):
    """Args:
        prob: probability of rotating at all (then k is drawn from {1, 2, 3}).

    Modifies ``img``, ``gt_seg_map`` (and every key in ``seg_fields``), ``img_shape``.
    """

    def __init__(self, prob: float = 0.75) -> None:
        if not 0.0 <= prob <= 1.0:
            raise ValueError(f'RandomRot90 prob must be in [0, 1], got {prob}')
        self.prob = prob

    def transform(self, results: dict) -> dict:
        if np.random.rand() >= self.prob:
            return results
        k = int(np.random.randint(1, 4))
        results['img'] = np.ascontiguousarray(np.rot90(results['img'], k, axes=(0, 1)))
        for key in results.get('seg_fields', []):
            results[key] = np.ascontiguousarray(np.rot90(results[key], k, axes=(0, 1)))
        results['img_shape'] = results['img'].shape[:2]
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(prob={self.prob})'
