"""``DefectClsDataset``: image-level multi-label classification data for the CAM classifier (mmpretrain)."""
import os.path as osp
from typing import List

import numpy as np
from mmpretrain.datasets import BaseDataset
from mmpretrain.registry import DATASETS

from .layout import DatasetLayoutError, read_image, read_image_labels


@DATASETS.register_module()
class DefectClsDataset(BaseDataset):
    """Multi-label image classification over the defect types (no background class).

    A defect-free image has no positive label. Classifier label ``k - 1`` is segmentation class ``k``.

    Args:
        ann_file: ``image_labels/<split>.txt`` (labels from folder names, written by the converters).
        label_source: ``'file'`` reads the labels from ``ann_file``; ``'mask'`` derives them from the
            masks under ``data_prefix['seg_map_path']`` (the classes present in each mask).
        Other arguments as :class:`mmpretrain.datasets.BaseDataset`; ``data_prefix`` is
        ``dict(img_path=..., seg_map_path=...)``.
    """

    def __init__(self, ann_file: str, label_source: str = 'file', **kwargs) -> None:
        if label_source not in ('file', 'mask'):
            raise ValueError(f"label_source must be 'file' or 'mask', got {label_source!r}")
        self.label_source = label_source
        super().__init__(ann_file=ann_file, **kwargs)

    def load_data_list(self) -> List[dict]:
        img_dir = self.data_prefix.get('img_path', '')
        num_classes = len(self.metainfo['classes'])
        data_list = []
        for name, labels in read_image_labels(self.ann_file):
            if self.label_source == 'mask':
                seg_dir = self.data_prefix.get('seg_map_path')
                if not seg_dir:
                    raise DatasetLayoutError("label_source='mask' needs data_prefix['seg_map_path']")
                mask = read_image(osp.join(seg_dir, osp.splitext(name)[0] + '.png'))
                labels = [int(k) for k in np.unique(mask) if k > 0]
            bad = [k for k in labels if not 1 <= k <= num_classes]
            if bad:
                raise DatasetLayoutError(
                    f'{self.ann_file}: {name} has class ids {bad}; {type(self).__name__} knows '
                    f'1..{num_classes} ({", ".join(self.metainfo["classes"])})')
            data_list.append(dict(img_path=osp.join(img_dir, name), gt_label=[k - 1 for k in labels]))
        return data_list

    def get_cat_ids(self, idx: int) -> List[int]:
        return list(self.get_data_info(idx)['gt_label'])
