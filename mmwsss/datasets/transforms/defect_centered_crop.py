"""``DefectCenteredCrop`` (mmseg TRANSFORMS): a random crop that contains a defect pixel with probability ``prob``.

mmseg's ``RandomCrop(cat_max_ratio=...)`` retries random crops until no class covers more than the ratio;
on MTD the background covers > 99 % of most crops, every retry fails and the crop stays uniform, so a
0.2 % blowhole is in few crops. Here, with probability ``prob`` and when the map has defect pixels
(labels ``1 <= y < ignore_index``), a class present in the map is drawn uniformly (rare classes of
multi-defect images get their turn), then one of its pixels ``(py, px)``, and the crop's top-left corner
is drawn uniformly among the positions that keep that pixel inside:

    top  ~ U[max(0, py - ch + 1), min(py, h - ch)],  left ~ U[max(0, px - cw + 1), min(px, w - cw)]

otherwise (or without defect pixels) the corner is uniform over the image. Crops never exceed the image
(``ch = min(crop_h, h)``); the data preprocessor pads a smaller batch member.
"""
from typing import Tuple

import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS


@TRANSFORMS.register_module()
class DefectCenteredCrop(BaseTransform):
    """Args:
        crop_size: (h, w) of the crop.
        prob: probability of centring on a defect pixel when the map has one, in [0, 1].
        ignore_index: label of ignored pixels (never a crop centre).

    Reads ``gt_seg_map``; modifies ``img``, every key in ``seg_fields``, ``img_shape``.
    """

    def __init__(self, crop_size: Tuple[int, int], prob: float = 0.5, ignore_index: int = 255) -> None:
        if len(crop_size) != 2 or min(crop_size) < 1:
            raise ValueError(f'DefectCenteredCrop crop_size must be two positive ints (h, w), got {crop_size}')
        if not 0.0 <= prob <= 1.0:
            raise ValueError(f'DefectCenteredCrop prob must be in [0, 1], got {prob}')
        self.crop_size = (int(crop_size[0]), int(crop_size[1]))
        self.prob = float(prob)
        self.ignore_index = int(ignore_index)

    def crop_box(self, seg_map: np.ndarray) -> Tuple[int, int, int, int]:
        """(top, left, crop_h, crop_w) of the crop for a (H, W) label map."""
        h, w = seg_map.shape[:2]
        ch, cw = min(self.crop_size[0], h), min(self.crop_size[1], w)
        if np.random.rand() < self.prob:
            defect = (seg_map >= 1) & (seg_map < self.ignore_index)
            classes = np.unique(seg_map[defect])
            if classes.size:
                ys, xs = np.nonzero(seg_map == np.random.choice(classes))
                i = np.random.randint(ys.size)
                py, px = int(ys[i]), int(xs[i])
                top = np.random.randint(max(0, py - ch + 1), min(py, h - ch) + 1)
                left = np.random.randint(max(0, px - cw + 1), min(px, w - cw) + 1)
                return int(top), int(left), ch, cw
        return int(np.random.randint(h - ch + 1)), int(np.random.randint(w - cw + 1)), ch, cw

    def transform(self, results: dict) -> dict:
        top, left, ch, cw = self.crop_box(results['gt_seg_map'])
        results['img'] = results['img'][top:top + ch, left:left + cw, ...]
        for key in results.get('seg_fields', []):
            results[key] = results[key][top:top + ch, left:left + cw]
        results['img_shape'] = results['img'].shape[:2]
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(crop_size={self.crop_size}, prob={self.prob})'
