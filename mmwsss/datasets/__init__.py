from .builtin_datasets import (MTD_CLASSES, MTD_FOLDERS, MTD_FREE_FOLDER, MTDClsDataset, MTDDataset,
                               SyntheticDefectClsDataset, SyntheticDefectDataset)
from .defect_cls_dataset import DefectClsDataset
from .defect_seg_dataset import DefectSegDataset
from .layout import DatasetLayoutError, read_image_labels, validate_split
from .pseudo_label_dataset import PseudoLabelDataset, pseudo_label_name

__all__ = [
    'DefectSegDataset', 'DefectClsDataset', 'SyntheticDefectDataset', 'SyntheticDefectClsDataset',
    'MTDDataset', 'MTDClsDataset', 'PseudoLabelDataset', 'DatasetLayoutError', 'read_image_labels',
    'validate_split', 'pseudo_label_name', 'MTD_CLASSES', 'MTD_FOLDERS', 'MTD_FREE_FOLDER'
]
