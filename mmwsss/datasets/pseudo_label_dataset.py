"""``PseudoLabelDataset``: serve a segmentation dataset's images with masks from a pseudo-label folder."""
import copy
import os.path as osp
from typing import List, Optional, Union

from mmengine.dataset import BaseDataset
from mmseg.registry import DATASETS

from .layout import DatasetLayoutError


def pseudo_label_name(img_path: str) -> str:
    """Pseudo-label file name of an image: ``<stem>.png``."""
    return osp.splitext(osp.basename(img_path))[0] + '.png'


@DATASETS.register_module()
class PseudoLabelDataset:
    """Wrap a dataset and replace its masks by pseudo-labels (0 background, k class k, 255 ignore).

    ``BaseDataset.get_data_info`` returns a copy, so editing it changes nothing: the wrapper keeps its own
    index -> mask-path map, built once per folder, and applies it on every access. :meth:`switch` points it
    at another folder (used by iterative refinement).

    Args:
        dataset: the wrapped mmseg dataset or its config.
        pseudo_label_dir: folder with one ``<image stem>.png`` per image of ``dataset``; ``None`` serves the wrapped
            dataset's own (GT) masks: the fully supervised bound of a pseudo-label config is the same config with
            ``train_dataloader = dict(dataset=dict(pseudo_label_dir=None))``.
        lazy_init: defer indexing until :meth:`full_init`.
    """

    def __init__(self, dataset: Union[dict, BaseDataset], pseudo_label_dir: Optional[str],
                 lazy_init: bool = False) -> None:
        self.dataset = DATASETS.build(dataset) if isinstance(dataset, dict) else dataset
        self.pseudo_label_dir = pseudo_label_dir
        self._metainfo = copy.deepcopy(self.dataset.metainfo)
        self._mask_paths: List[str] = []
        self._fully_initialized = False
        if not lazy_init:
            self.full_init()

    @property
    def metainfo(self) -> dict:
        return copy.deepcopy(self._metainfo)

    @property
    def pipeline(self):
        return self.dataset.pipeline

    def full_init(self) -> None:
        if self._fully_initialized:
            return
        self.dataset.full_init()
        self._mask_paths = self._index(self.pseudo_label_dir)
        self._fully_initialized = True

    def _index(self, folder: Optional[str]) -> List[str]:
        if folder is None:  # the GT masks of the wrapped dataset
            return [self.dataset.get_data_info(idx)['seg_map_path'] for idx in range(len(self.dataset))]
        if not osp.isdir(folder):
            raise DatasetLayoutError(
                f'pseudo-label folder not found: {folder}. Generate it with tools/generate_pseudo_labels.py')
        paths, missing = [], []
        for idx in range(len(self.dataset)):
            path = osp.join(folder, pseudo_label_name(self.dataset.get_data_info(idx)['img_path']))
            paths.append(path)
            if not osp.isfile(path):
                missing.append(osp.basename(path))
        if missing:
            raise DatasetLayoutError(
                f'{len(missing)} of {len(paths)} pseudo-labels missing in {folder} (e.g. {missing[:3]}); '
                're-run tools/generate_pseudo_labels.py (it resumes).')
        return paths

    def switch(self, pseudo_label_dir: str) -> None:
        """Serve masks from ``pseudo_label_dir`` from now on (validated before switching)."""
        self.dataset.full_init()
        self._mask_paths = self._index(pseudo_label_dir)
        self.pseudo_label_dir = pseudo_label_dir
        self._fully_initialized = True

    def get_data_info(self, idx: int) -> dict:
        info = self.dataset.get_data_info(idx)
        info['seg_map_path'] = self._mask_paths[idx]
        return info

    def __getitem__(self, idx: int) -> dict:
        if not self._fully_initialized:
            self.full_init()
        return self.dataset.pipeline(self.get_data_info(idx))

    def __len__(self) -> int:
        if not self._fully_initialized:
            self.full_init()
        return len(self._mask_paths)
