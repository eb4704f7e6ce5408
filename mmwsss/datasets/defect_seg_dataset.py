"""``DefectSegDataset``: an mmseg dataset over the mmwsss layout (see :mod:`mmwsss.datasets.layout`)."""
import os.path as osp
from typing import List

from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from .layout import DatasetLayoutError, read_image_labels


@DATASETS.register_module()
class DefectSegDataset(BaseSegDataset):
    """Images + masks listed by an image-level label file.

    ``ann_file`` is ``image_labels/<split>.txt``; each data info carries ``image_labels`` (class ids
    1..K present in the image), which the CAM and pseudo-label stages use as the weak supervision.
    Masks are ``<seg_map_path>/<stem>.png`` with 0 = background and k = defect class k.
    Subclasses set ``METAINFO`` (classes including ``background`` first, palette).
    """

    def __init__(self, ann_file: str = '', seg_map_suffix: str = '.png', **kwargs) -> None:
        if not ann_file:
            raise DatasetLayoutError(
                f'{type(self).__name__} needs ann_file="image_labels/<split>.txt" (image-level labels)')
        super().__init__(ann_file=ann_file, seg_map_suffix=seg_map_suffix, **kwargs)

    def load_data_list(self) -> List[dict]:
        img_dir = self.data_prefix.get('img_path', '')
        ann_dir = self.data_prefix.get('seg_map_path', None)
        num_classes = len(self.metainfo['classes'])
        data_list = []
        for name, labels in read_image_labels(self.ann_file):
            bad = [k for k in labels if not 1 <= k < num_classes]
            if bad:
                raise DatasetLayoutError(
                    f'{self.ann_file}: {name} has class ids {bad}; {type(self).__name__} knows '
                    f'1..{num_classes - 1} ({", ".join(self.metainfo["classes"][1:])})')
            info = dict(
                img_path=osp.join(img_dir, name),
                image_labels=labels,
                label_map=self.label_map,
                reduce_zero_label=self.reduce_zero_label,
                seg_fields=[])
            if ann_dir is not None:
                info['seg_map_path'] = osp.join(ann_dir, osp.splitext(name)[0] + self.seg_map_suffix)
            data_list.append(info)
        return data_list
