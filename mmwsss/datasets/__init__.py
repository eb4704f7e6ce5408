from .builtin_datasets import (DAGM_CLASSES, KSDD2_CLASSES, MTD_CLASSES, MTD_FOLDERS, MTD_FREE_FOLDER, NEU_SEG_CLASSES,
                               DAGMClsDataset, DAGMDataset, KSDD2ClsDataset, KSDD2Dataset, MTDClsDataset, MTDDataset,
                               NEUSegClsDataset, NEUSegDataset, SyntheticDefectClsDataset, SyntheticDefectDataset)
from .class_balanced_sampler import ClassBalancedSampler, class_balanced_weights
from .converters import CONVERTERS, convert_dataset
from .defect_cls_dataset import DefectClsDataset
from .defect_seg_dataset import DefectSegDataset
from .layout import DatasetLayoutError, read_image_labels, validate_split
from .pseudo_label_dataset import PseudoLabelDataset, pseudo_label_name
from .transforms import DefectCenteredCrop, LimitLongestSide, RandomRescale, RandomRot90

__all__ = [
    'DefectSegDataset', 'DefectClsDataset', 'SyntheticDefectDataset', 'SyntheticDefectClsDataset',
    'MTDDataset', 'MTDClsDataset', 'NEUSegDataset', 'NEUSegClsDataset', 'KSDD2Dataset', 'KSDD2ClsDataset',
    'DAGMDataset', 'DAGMClsDataset', 'PseudoLabelDataset', 'DatasetLayoutError', 'read_image_labels',
    'validate_split', 'pseudo_label_name', 'MTD_CLASSES', 'MTD_FOLDERS', 'MTD_FREE_FOLDER', 'NEU_SEG_CLASSES',
    'KSDD2_CLASSES', 'DAGM_CLASSES', 'CONVERTERS', 'convert_dataset', 'ClassBalancedSampler', 'class_balanced_weights',
    'DefectCenteredCrop', 'LimitLongestSide', 'RandomRescale', 'RandomRot90'
]
