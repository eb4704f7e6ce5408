import os
import os.path as osp

import cv2
import numpy as np
import pytest

from mmwsss.datasets import MTD_FOLDERS, MTD_FREE_FOLDER, DatasetLayoutError, read_image_labels, validate_split
from mmwsss.datasets.mtd_converter import convert_mtd, split_counts
from .conftest import MTD_ROOT


def make_fake_mtd(root, per_folder=10, size=(40, 30)):
    """MTD/MT_<Type>/Imgs/<name>.jpg + .png (anti-aliased 0..255 masks) as published."""
    rng = np.random.default_rng(0)
    for folder in (MTD_FREE_FOLDER, ) + MTD_FOLDERS:
        d = osp.join(root, folder, 'Imgs')
        os.makedirs(d)
        for i in range(per_folder):
            img = rng.integers(0, 255, size[::-1]).astype(np.uint8)
            mask = np.zeros(size[::-1], np.uint8)
            if folder != MTD_FREE_FOLDER:
                mask[5:10, 5:10] = 255
                mask[10, 5:10] = 127  # anti-aliased edge below the 128 cut
                mask[11, 5:10] = 128  # at the cut: defect
            cv2.imwrite(osp.join(d, f'exp_{i}.jpg'), img)
            cv2.imwrite(osp.join(d, f'exp_{i}.png'), mask)
    return root


def test_convert_binarizes_labels_and_splits_reproducibly(tmp_path):
    src = make_fake_mtd(str(tmp_path / 'MTD'))
    stats = convert_mtd(src, str(tmp_path / 'out'))
    convert_mtd(src, str(tmp_path / 'out2'))
    # stratified 0.7/0.1/0.2 of 10 per folder
    for folder in (MTD_FREE_FOLDER, ) + MTD_FOLDERS:
        assert (stats['train'][folder], stats['val'][folder], stats['test'][folder]) == (7, 1, 2)
    for split in ('train', 'val', 'test'):
        a = read_image_labels(str(tmp_path / 'out' / 'image_labels' / f'{split}.txt'))
        b = read_image_labels(str(tmp_path / 'out2' / 'image_labels' / f'{split}.txt'))
        assert a == b
        validate_split(str(tmp_path / 'out'), split, num_classes=6, require_both=True)
    entries = dict(read_image_labels(str(tmp_path / 'out' / 'image_labels' / 'train.txt')))
    crack = next(n for n in entries if n.startswith('MT_Crack'))
    free = next(n for n in entries if n.startswith('MT_Free'))
    assert entries[crack] == [3] and entries[free] == []
    mask = cv2.imread(str(tmp_path / 'out' / 'ann_dir' / 'train' / (crack[:-4] + '.png')), cv2.IMREAD_UNCHANGED)
    assert set(np.unique(mask)) == {0, 3}
    assert mask[11, 5] == 3 and mask[10, 5] == 0 and int((mask == 3).sum()) == 30


def test_mask_size_mismatch_names_the_file(tmp_path):
    src = make_fake_mtd(str(tmp_path / 'MTD'), per_folder=2)
    bad = osp.join(src, 'MT_Fray', 'Imgs', 'exp_1.png')
    cv2.imwrite(bad, np.zeros((5, 5), np.uint8))
    with pytest.raises(DatasetLayoutError, match=r'differs from image size.*MT_Fray/Imgs/exp_1.png'):
        convert_mtd(src, str(tmp_path / 'out'))


def test_missing_root_and_bad_ratios(tmp_path):
    with pytest.raises(DatasetLayoutError, match='MTD root not found'):
        convert_mtd(str(tmp_path / 'nowhere'), str(tmp_path / 'out'))
    with pytest.raises(ValueError, match='ratios'):
        convert_mtd(str(tmp_path), str(tmp_path / 'out'), ratios=(0.5, 0.5, 0.5))
    assert split_counts(10, (0.7, 0.1, 0.2)) == (7, 1, 2)


@pytest.mark.skipif(not osp.isdir(MTD_ROOT), reason=f'real MTD not found at {MTD_ROOT}')
def test_real_mtd_counts(tmp_path):
    stats = convert_mtd(MTD_ROOT, str(tmp_path / 'mtd'))
    total = {f: sum(stats[s].get(f, 0) for s in stats) for f in (MTD_FREE_FOLDER, ) + MTD_FOLDERS}
    assert total == {'MT_Free': 952, 'MT_Blowhole': 115, 'MT_Break': 85, 'MT_Crack': 57, 'MT_Fray': 32,
                     'MT_Uneven': 103}
