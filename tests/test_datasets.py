import os
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest

from mmwsss.datasets import DatasetLayoutError, pseudo_label_name


def seg_cfg(root, split='train', pipeline=None):
    return dict(type='SyntheticDefectDataset', data_root=root, ann_file=f'image_labels/{split}.txt',
                data_prefix=dict(img_path=f'img_dir/{split}', seg_map_path=f'ann_dir/{split}'),
                pipeline=pipeline or [dict(type='LoadImageFromFile'), dict(type='mmseg.LoadAnnotations')])


def test_seg_and_cls_datasets_build_through_registries(tiny_synthetic):
    from mmpretrain.registry import DATASETS as CLS
    from mmseg.registry import DATASETS as SEG
    seg = SEG.build(seg_cfg(tiny_synthetic))
    assert len(seg) == 24 and seg.metainfo['classes'][0] == 'background'
    info = seg.get_data_info(0)
    mask = cv2.imread(info['seg_map_path'], cv2.IMREAD_UNCHANGED)
    assert info['image_labels'] == sorted(int(v) for v in np.unique(mask) if v > 0)
    cls = CLS.build(dict(type='SyntheticDefectClsDataset', data_root=tiny_synthetic,
                         ann_file='image_labels/train.txt', data_prefix=dict(img_path='img_dir/train'),
                         pipeline=[]))
    assert len(cls) == 24 and cls.metainfo['classes'] == ('scratch', 'pit', 'stain')
    assert cls.get_data_info(0)['gt_label'] == [k - 1 for k in info['image_labels']]
    from_mask = CLS.build(dict(type='SyntheticDefectClsDataset', data_root=tiny_synthetic, label_source='mask',
                               ann_file='image_labels/train.txt',
                               data_prefix=dict(img_path='img_dir/train', seg_map_path='ann_dir/train'),
                               pipeline=[]))
    assert [from_mask.get_data_info(i)['gt_label'] for i in range(24)] == \
        [cls.get_data_info(i)['gt_label'] for i in range(24)]


def test_pseudo_label_dataset_serves_and_switches(tiny_synthetic, tmp_path):
    from mmseg.registry import DATASETS
    base = DATASETS.build(seg_cfg(tiny_synthetic))
    for value, folder in ((1, 'round0'), (2, 'round1')):
        os.makedirs(tmp_path / folder)
        for i in range(len(base)):
            info = base.get_data_info(i)
            h, w = cv2.imread(info['img_path']).shape[:2]
            cv2.imwrite(str(tmp_path / folder / pseudo_label_name(info['img_path'])),
                        np.full((h, w), value, np.uint8))
    ds = DATASETS.build(dict(type='PseudoLabelDataset', dataset=seg_cfg(tiny_synthetic),
                             pseudo_label_dir=str(tmp_path / 'round0')))
    assert len(ds) == 24 and ds.metainfo['classes'] == base.metainfo['classes']
    assert np.all(ds[3]['gt_seg_map'] == 1)
    ds.switch(str(tmp_path / 'round1'))
    assert np.all(ds[3]['gt_seg_map'] == 2)
    # the wrapped dataset itself is untouched
    assert base.get_data_info(3)['seg_map_path'].startswith(tiny_synthetic)
    os.remove(tmp_path / 'round1' / pseudo_label_name(base.get_data_info(5)['img_path']))
    with pytest.raises(DatasetLayoutError, match='1 of 24 pseudo-labels missing'):
        ds.switch(str(tmp_path / 'round1'))
    assert np.all(ds[3]['gt_seg_map'] == 2), 'a failed switch keeps the previous folder'
    with pytest.raises(DatasetLayoutError, match='pseudo-label folder not found'):
        DATASETS.build(dict(type='PseudoLabelDataset', dataset=seg_cfg(tiny_synthetic),
                            pseudo_label_dir=str(tmp_path / 'absent')))


def test_pseudo_label_dataset_without_folder_serves_the_gt_masks(tiny_synthetic):
    """pseudo_label_dir=None: the fully supervised variant of a pseudo-label config is one key."""
    from mmseg.registry import DATASETS
    base = DATASETS.build(seg_cfg(tiny_synthetic))
    ds = DATASETS.build(dict(type='PseudoLabelDataset', dataset=seg_cfg(tiny_synthetic), pseudo_label_dir=None))
    assert len(ds) == len(base)
    for i in (0, 7):
        assert ds.get_data_info(i)['seg_map_path'] == base.get_data_info(i)['seg_map_path']
        np.testing.assert_array_equal(ds[i]['gt_seg_map'], base[i]['gt_seg_map'])


def test_unknown_class_id_in_label_file(tmp_path, tiny_synthetic):
    from mmseg.registry import DATASETS
    root = str(tmp_path / 'copy')
    shutil.copytree(tiny_synthetic, root)
    with open(osp.join(root, 'image_labels', 'train.txt'), 'a') as f:
        f.write('train_00000.png\t7\n')
    with pytest.raises(DatasetLayoutError, match=r'class ids \[7\]'):
        DATASETS.build(seg_cfg(root))
