import os.path as osp
import shutil

import cv2
import numpy as np
import pytest

from mmwsss.datasets import DatasetLayoutError, validate_split
from mmwsss.datasets.layout import read_image_labels


@pytest.fixture
def data(tmp_path, tiny_synthetic):
    root = str(tmp_path / 'd')
    shutil.copytree(tiny_synthetic, root)
    return root


def first(root, split='train', defective=True):
    return next(n for n, labels in read_image_labels(osp.join(root, 'image_labels', f'{split}.txt'))
                if bool(labels) == defective)


def test_valid_split_counts(data):
    stats = validate_split(data, 'train', num_classes=4, require_both=True)
    assert stats['images'] == 24 and stats['defect_free'] + stats['defective'] == 24
    assert stats['defect_free'] > 0 and stats['defective'] > 0


def test_missing_data_root(tmp_path):
    with pytest.raises(DatasetLayoutError, match=r'data root does not exist: .*nowhere'):
        validate_split(str(tmp_path / 'nowhere'), 'train', 4)


def test_unreadable_and_empty_image(data):
    name = first(data)
    path = osp.join(data, 'img_dir', 'train', name)
    with open(path, 'wb') as f:
        f.write(b'not a png')
    with pytest.raises(DatasetLayoutError, match=rf'unreadable or corrupt image: .*{name}'):
        validate_split(data, 'train', 4)
    open(path, 'wb').close()
    with pytest.raises(DatasetLayoutError, match=rf'zero-byte.*{name}'):
        validate_split(data, 'train', 4)


def test_16bit_image_in_layout_is_refused(data):
    name = first(data)
    cv2.imwrite(osp.join(data, 'img_dir', 'train', name), np.full((64, 64), 4095, np.uint16))
    with pytest.raises(DatasetLayoutError, match=rf'{name} is uint16 \(16-bit\).*folders.py'):
        validate_split(data, 'train', 4)


def test_mask_size_and_values(data):
    name = first(data)
    mask_path = osp.join(data, 'ann_dir', 'train', name[:-4] + '.png')
    cv2.imwrite(mask_path, np.zeros((10, 12), np.uint8))
    with pytest.raises(DatasetLayoutError, match=rf'mask size 12x10 differs from image size 64x64: .*{name[:-4]}'):
        validate_split(data, 'train', 4)
    cv2.imwrite(mask_path, np.full((64, 64), 9, np.uint8))
    with pytest.raises(DatasetLayoutError, match=r'mask values outside the class list \(0..3\).*holds 9'):
        validate_split(data, 'train', 4)


def test_split_without_defect_free_or_defective_images(data):
    path = osp.join(data, 'image_labels', 'train.txt')
    lines = [line for line in open(path).read().splitlines() if line.split('\t')[1]]
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    assert validate_split(data, 'train', 4)['defect_free'] == 0
    with pytest.raises(DatasetLayoutError, match='no defect-free images'):
        validate_split(data, 'train', 4, require_both=True)
