"""Folder converter: nothing lost, nothing mixed (growing trees, names, masks, symlinks, EXIF, config files)."""
import os
import os.path as osp
import stat

import cv2
import numpy as np
import pytest

from mmwsss.apis.config_generation import write_dataset_configs
from mmwsss.datasets import DatasetLayoutError, read_image_labels
from mmwsss.datasets.folder_converter import convert_folders
from .test_folder_converter import SIZE, make_tree


def split_of(out):
    return {name: split for split in ('train', 'val', 'test')
            for name, _ in read_image_labels(osp.join(out, 'image_labels', f'{split}.txt'))}


def test_grown_tree_keeps_earlier_splits_and_new_class_is_refused(tmp_path):
    images, _ = make_tree(str(tmp_path / 'src'), masks=False)
    out = str(tmp_path / 'out')
    convert_folders(images, out, ok=['good'])
    before = split_of(out)
    rng = np.random.default_rng(5)
    for i in range(10, 20):  # the line delivers more images
        cv2.imwrite(osp.join(images, 'dent', f'dent_{i:03d}.png'), rng.integers(0, 200, SIZE).astype(np.uint8))
    gone = osp.join(images, 'scratch', 'scratch_000.png')
    os.remove(gone)
    report = convert_folders(images, out, ok=['good'])
    after = split_of(out)
    assert {n: s for n, s in after.items() if n in before} == {n: s for n, s in before.items()
                                                             if n != 'scratch__scratch_000.png'}
    new = [n for n in after if n not in before]
    assert len(new) == 10 and {after[n] for n in new} == {'train', 'val', 'test'}  # 7 / 1 / 2 of the new ten
    assert report['kept_splits'] == 29
    assert report['removed'] == [osp.join('img_dir', before['scratch__scratch_000.png'], 'scratch__scratch_000.png')]
    for split in ('train', 'val', 'test'):  # no stale copy left behind anywhere
        files = set(os.listdir(osp.join(out, 'img_dir', split)))
        assert files == {n for n, s in after.items() if s == split}
    os.makedirs(osp.join(images, 'burr'))
    cv2.imwrite(osp.join(images, 'burr', 'b.png'), np.zeros(SIZE, np.uint8))
    with pytest.raises(DatasetLayoutError, match=r"new \['burr'\].*class ids would change.*new --out"):
        convert_folders(images, out, ok=['good'])


def test_same_file_names_in_class_folders_and_stem_collisions(tmp_path):
    images, _ = make_tree(str(tmp_path / 'src'), masks=False)
    cv2.imwrite(osp.join(images, 'scratch', 'dent_003.png'), np.full(SIZE, 9, np.uint8))  # camera-style names
    os.makedirs(osp.join(images, 'good', 'lot1'))
    cv2.imwrite(osp.join(images, 'good', 'lot1', 'n.png'), np.full(SIZE, 1, np.uint8))
    cv2.imwrite(osp.join(images, 'good', 'lot1__n.png'), np.full(SIZE, 2, np.uint8))
    out = str(tmp_path / 'out')
    report = convert_folders(images, out, ok=['good'])
    names = split_of(out)
    assert 'dent__dent_003.png' in names and 'scratch__dent_003.png' in names
    lot = sorted(n for n in names if n.startswith('good__lot1__n'))
    assert len(lot) == 2 and lot[0] != lot[1]  # both kept, told apart by a hash of their source path
    values = {int(cv2.imread(osp.join(out, 'img_dir', names[n], n), cv2.IMREAD_UNCHANGED)[0, 0]) for n in lot}
    assert values == {1, 2}
    assert sum(c['defect_free'] + c['defective'] for c in report['counts'].values()) == 33


def test_masks_match_case_insensitively_and_unmatched_are_reported(tmp_path):
    images, masks = make_tree(str(tmp_path / 'src'))
    os.rename(osp.join(masks, 'scratch'), osp.join(masks, 'Scratch'))
    os.makedirs(osp.join(masks, 'dnet'))
    cv2.imwrite(osp.join(masks, 'dnet', 'x.png'), np.zeros(SIZE, np.uint8))
    report = convert_folders(images, str(tmp_path / 'out'), ok=['good'], mask_root=masks)
    assert report['counts']['train']['with_masks'] == 21  # every scratch image found its Scratch/ mask
    assert report['unmatched_folders'] == ['dnet'] and report['unmatched_masks'] == [osp.join('dnet', 'x.png')]


def test_partial_masks_covering_a_whole_class_leave_it_training_images(tmp_path):
    images, masks = make_tree(str(tmp_path / 'src'), counts=dict(good=10, dent=10, scratch=10))
    for name in sorted(os.listdir(osp.join(masks, 'scratch')))[3:]:  # dent: all masked, scratch: 3 of 10
        os.remove(osp.join(masks, 'scratch', name))
    report = convert_folders(images, str(tmp_path / 'out'), ok=['good'], mask_root=masks)
    train = [labels for _, labels in read_image_labels(str(tmp_path / 'out' / 'image_labels' / 'train.txt'))]
    assert sum(labels == [1] for labels in train) == 7  # dent: its val + test quota (1 + 2) goes to evaluation
    assert sum(labels == [2] for labels in train) == 7
    assert report['counts']['val']['with_masks'] + report['counts']['test']['with_masks'] == 6 + 3


def test_out_through_a_symlink_into_the_source_is_refused(tmp_path):
    images, _ = make_tree(str(tmp_path / 'src'), masks=False)
    os.symlink(osp.join(images, 'dent'), str(tmp_path / 'link'))
    with pytest.raises(DatasetLayoutError, match='must not contain each other'):
        convert_folders(images, str(tmp_path / 'link' / 'out'), ok=['good'])
    assert sorted(os.listdir(osp.join(images, 'dent'))) == [f'dent_{i:03d}.png' for i in range(10)]


def test_exif_orientation_is_applied_to_image_and_mask(tmp_path):
    from PIL import Image
    images, masks = make_tree(str(tmp_path / 'src'))
    raw = np.zeros(SIZE, np.uint8)  # 24 x 32 as stored
    raw[:, :8] = 250
    exif = Image.Exif()
    exif[0x0112] = 6  # displayed rotated 90 degrees clockwise
    Image.fromarray(raw).save(osp.join(images, 'dent', 'turned.jpg'), exif=exif, quality=100)
    mask = np.zeros(SIZE, np.uint8)
    mask[:4, :8] = 255  # drawn on the stored pixels
    cv2.imwrite(osp.join(masks, 'dent', 'turned.png'), mask)
    out = str(tmp_path / 'out')
    report = convert_folders(images, out, ok=['good'], mask_root=masks)
    split = split_of(out)['dent__turned.png']
    loaded = cv2.imread(osp.join(out, 'img_dir', split, 'dent__turned.png'), cv2.IMREAD_COLOR)  # as the loaders do
    shown = cv2.imread(osp.join(images, 'dent', 'turned.jpg'), cv2.IMREAD_COLOR)  # the source as they would
    assert loaded.shape == shown.shape == (32, 24, 3) and np.array_equal(loaded, shown)
    label = cv2.imread(osp.join(out, 'ann_dir', split, 'dent__turned.png'), cv2.IMREAD_UNCHANGED)
    assert np.array_equal(label, np.rot90(mask, -1) // 255)  # class 1 where the mask is, turned the same way
    assert any('EXIF orientation 6 applied' in n['note'] for n in report['normalized'])


def test_generated_configs_are_written_once(tmp_path):
    images, _ = make_tree(str(tmp_path / 'src'), masks=False)
    out = str(tmp_path / 'out')
    convert_folders(images, out, ok=['good'])
    paths = write_dataset_configs(out, osp.join(out, 'configs'), 'line')
    with open(paths['segmenter'], 'a') as f:
        f.write('train_cfg = dict(max_iters=50)  # my edit\n')
    kept = []
    write_dataset_configs(out, osp.join(out, 'configs'), 'line', kept=kept)
    assert kept == [paths['segmenter']] and 'my edit' in open(paths['segmenter']).read()


def test_written_files_follow_the_umask(tmp_path):
    images, _ = make_tree(str(tmp_path / 'src'), masks=False)
    old = os.umask(0o022)
    try:
        convert_folders(images, str(tmp_path / 'out'), ok=['good'])
    finally:
        os.umask(old)
    for path in (tmp_path / 'out' / 'conversion.json', tmp_path / 'out' / 'image_labels' / 'train.txt'):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o644, path


def test_skip_bad_leaves_a_truncated_jpeg_out_and_lists_it(tmp_path):
    images, _ = make_tree(str(tmp_path / 'src'), masks=False)
    data = cv2.imencode('.jpg', np.random.default_rng(0).integers(0, 255, (64, 64)).astype(np.uint8))[1].tobytes()
    open(osp.join(images, 'dent', 'cut.jpg'), 'wb').write(data[:len(data) // 2])
    report = convert_folders(images, str(tmp_path / 'out'), ok=['good'], skip_bad=True)
    assert [osp.basename(s['file']) for s in report['skipped']] == ['cut.jpg']
    assert 'truncated' in report['skipped'][0]['reason']


@pytest.mark.parametrize('kwargs, message', [
    (dict(ignore=['dnet']), r'--ignore dnet: no such folder .*did you mean dent\?'),
    (dict(ratios=(0.7, 0.2, 0.2)), r'--ratios must be three non-negative numbers .*sum 1.1'),
    (dict(mask_thr=0), r'--mask-thr must be in 1..65535'),
])
def test_option_mistakes_are_named(tmp_path, kwargs, message):
    images, _ = make_tree(str(tmp_path / 'src'), masks=False)
    with pytest.raises(ValueError, match=message):
        convert_folders(images, str(tmp_path / 'out'), ok=['good'], **kwargs)
