"""Registered datasets with fixed METAINFO: the embedded synthetic set, MTD, NEU-Seg, KolektorSDD2, DAGM 2007.

Each comes as a segmentation dataset (mmseg, classes with ``background`` first) and a classification
dataset (mmpretrain, defect classes only).
"""
from mmpretrain.registry import DATASETS as CLS_DATASETS
from mmseg.registry import DATASETS as SEG_DATASETS

from .defect_cls_dataset import DefectClsDataset
from .defect_seg_dataset import DefectSegDataset
from .synthetic_defects import SYNTHETIC_CLASSES, SYNTHETIC_PALETTE

MTD_CLASSES = ('background', 'blowhole', 'break', 'crack', 'fray', 'uneven')
MTD_FOLDERS = ('MT_Blowhole', 'MT_Break', 'MT_Crack', 'MT_Fray', 'MT_Uneven')
MTD_FREE_FOLDER = 'MT_Free'
MTD_PALETTE = [[0, 0, 0], [230, 25, 75], [60, 180, 75], [255, 225, 25], [0, 130, 200], [245, 130, 48]]


@SEG_DATASETS.register_module()
class SyntheticDefectDataset(DefectSegDataset):
    """Embedded procedural surfaces (``tools/dataset_converters/synthetic_defects.py``)."""
    METAINFO = dict(classes=SYNTHETIC_CLASSES, palette=SYNTHETIC_PALETTE)

    def __init__(self, img_suffix: str = '.png', **kwargs) -> None:
        super().__init__(img_suffix=img_suffix, **kwargs)


@CLS_DATASETS.register_module()
class SyntheticDefectClsDataset(DefectClsDataset):
    METAINFO = dict(classes=SYNTHETIC_CLASSES[1:])


@SEG_DATASETS.register_module()
class MTDDataset(DefectSegDataset):
    """Magnetic Tile Defects (Huang, Qiu and Yuan, The Visual Computer 2020), converted by
    ``tools/dataset_converters/mtd.py``."""
    METAINFO = dict(classes=MTD_CLASSES, palette=MTD_PALETTE)

    def __init__(self, img_suffix: str = '.jpg', **kwargs) -> None:
        super().__init__(img_suffix=img_suffix, **kwargs)


@CLS_DATASETS.register_module()
class MTDClsDataset(DefectClsDataset):
    METAINFO = dict(classes=MTD_CLASSES[1:])


NEU_SEG_CLASSES = ('background', 'inclusion', 'patches', 'scratches')
NEU_SEG_PALETTE = [[0, 0, 0], [230, 25, 75], [60, 180, 75], [0, 130, 200]]
KSDD2_CLASSES = ('background', 'defect')
KSDD2_PALETTE = [[0, 0, 0], [230, 25, 75]]
DAGM_CLASSES = ('background', ) + tuple(f'class{n}' for n in range(1, 11))
DAGM_PALETTE = [[0, 0, 0], [230, 25, 75], [60, 180, 75], [255, 225, 25], [0, 130, 200], [245, 130, 48],
                [145, 30, 180], [70, 240, 240], [240, 50, 230], [210, 245, 60], [250, 190, 212]]


@SEG_DATASETS.register_module()
class NEUSegDataset(DefectSegDataset):
    """NEU-Seg steel surface defects (converted by ``tools/dataset_converters/neu_seg.py``); no defect-free
    images: the classifier is multi-label over the three defect types."""
    METAINFO = dict(classes=NEU_SEG_CLASSES, palette=NEU_SEG_PALETTE)

    def __init__(self, img_suffix: str = '.jpg', **kwargs) -> None:
        super().__init__(img_suffix=img_suffix, **kwargs)


@CLS_DATASETS.register_module()
class NEUSegClsDataset(DefectClsDataset):
    METAINFO = dict(classes=NEU_SEG_CLASSES[1:])


@SEG_DATASETS.register_module()
class KSDD2Dataset(DefectSegDataset):
    """KolektorSDD2 (Božič, Tabernik and Skočaj, Computers in Industry 2021), converted by
    ``tools/dataset_converters/ksdd2.py``: one defect class."""
    METAINFO = dict(classes=KSDD2_CLASSES, palette=KSDD2_PALETTE)

    def __init__(self, img_suffix: str = '.png', **kwargs) -> None:
        super().__init__(img_suffix=img_suffix, **kwargs)


@CLS_DATASETS.register_module()
class KSDD2ClsDataset(DefectClsDataset):
    METAINFO = dict(classes=KSDD2_CLASSES[1:])


@SEG_DATASETS.register_module()
class DAGMDataset(DefectSegDataset):
    """DAGM 2007 (Wieler and Hahn), converted by ``tools/dataset_converters/dagm.py``: class N = ClassN's defect;
    masks are the published weak ellipses."""
    METAINFO = dict(classes=DAGM_CLASSES, palette=DAGM_PALETTE)

    def __init__(self, img_suffix: str = '.png', **kwargs) -> None:
        super().__init__(img_suffix=img_suffix, **kwargs)


@CLS_DATASETS.register_module()
class DAGMClsDataset(DefectClsDataset):
    METAINFO = dict(classes=DAGM_CLASSES[1:])
