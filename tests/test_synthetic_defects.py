import os.path as osp

import numpy as np
import pytest

from mmwsss.datasets.layout import read_image, read_image_labels, validate_split
from mmwsss.datasets.synthetic_defects import SyntheticSpec, make_sample, write_synthetic_dataset


def test_same_seed_same_bytes_other_seed_differs():
    spec = SyntheticSpec(size=64, seed=1)
    a = make_sample(spec, 'train', 5)
    b = make_sample(spec, 'train', 5)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]) and a[2] == b[2]
    c = make_sample(SyntheticSpec(size=64, seed=2), 'train', 5)
    assert not np.array_equal(a[0], c[0])


def test_labels_match_masks_and_all_types_occur():
    spec = SyntheticSpec(size=96, seed=0)
    seen = set()
    free = 0
    for i in range(60):
        img, mask, labels = make_sample(spec, 'train', i)
        assert img.shape == mask.shape == (96, 96) and img.dtype == np.uint8
        assert labels == sorted(int(v) for v in np.unique(mask) if v > 0)
        seen.update(labels)
        free += not labels
    assert seen == {1, 2, 3}
    assert 5 <= free <= 35  # defect_free_ratio 0.3 of 60


def test_written_layout_is_valid_and_reproducible(tmp_path):
    spec = SyntheticSpec(size=48, num_train=6, num_val=2, num_test=2, seed=7)
    counts = write_synthetic_dataset(str(tmp_path / 'a'), spec)
    write_synthetic_dataset(str(tmp_path / 'b'), spec)
    assert counts == {'train': 6, 'val': 2, 'test': 2}
    for split in ('train', 'val', 'test'):
        stats = validate_split(str(tmp_path / 'a'), split, num_classes=4)
        assert stats['images'] == counts[split]
    name = read_image_labels(str(tmp_path / 'a' / 'image_labels' / 'train.txt'))[0][0]
    for sub in ('img_dir', 'ann_dir'):
        pa = read_image(osp.join(tmp_path, 'a', sub, 'train', name))
        pb = read_image(osp.join(tmp_path, 'b', sub, 'train', name))
        assert np.array_equal(pa, pb)


def test_spec_validates_arguments():
    with pytest.raises(ValueError, match='size must be'):
        SyntheticSpec(size=8)
    with pytest.raises(ValueError, match='defect_free_ratio'):
        SyntheticSpec(defect_free_ratio=1.5)
    with pytest.raises(ValueError, match='split must be'):
        make_sample(SyntheticSpec(), 'dev', 0)
