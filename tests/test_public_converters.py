"""NEU-Seg, KolektorSDD2 and DAGM 2007 converters on tiny fake trees in each published layout, the dataset
classes and configs that read them, and the pipeline's data stage converting on first use."""
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmwsss.datasets import DatasetLayoutError, read_image_labels, validate_split
from mmwsss.datasets.dagm_converter import convert_dagm, read_dagm_labels
from mmwsss.datasets.ksdd2_converter import convert_ksdd2
from mmwsss.datasets.neu_seg_converter import convert_neu_seg


def all_labels(out):
    return {n: labels for s in ('train', 'val', 'test')
            for n, labels in read_image_labels(osp.join(out, 'image_labels', f'{s}.txt'))}


def make_neu_seg(root, n_train=10, n_test=4):
    rng = np.random.default_rng(0)
    for split, n in (('training', n_train), ('test', n_test)):
        os.makedirs(osp.join(root, 'images', split))
        os.makedirs(osp.join(root, 'annotations', split))
        for i in range(n):
            cv2.imwrite(osp.join(root, 'images', split, f'{i:06d}.jpg'),
                        rng.integers(0, 255, (200, 200)).astype(np.uint8))
            mask = np.zeros((200, 200), np.uint8)
            mask[10:30, 10:30] = 1 + i % 3
            if i % 4 == 0:
                mask[100:120, 100:140] = 3  # several classes in one image
            cv2.imwrite(osp.join(root, 'annotations', split, f'{i:06d}.png'), mask)
    return root


def make_ksdd2(root, n_train=20, n_test=6):
    rng = np.random.default_rng(1)
    for split, n in (('train', n_train), ('test', n_test)):
        os.makedirs(osp.join(root, split))
        for i in range(n):
            cv2.imwrite(osp.join(root, split, f'{10000 + i:05d}.png'),
                        rng.integers(0, 255, (64, 24, 3)).astype(np.uint8))
            gt = np.zeros((64, 24), np.uint8)
            if i % 3 == 0:
                gt[20:30, 5:15] = 255
            cv2.imwrite(osp.join(root, split, f'{10000 + i:05d}_GT.png'), gt)
    return root


def make_dagm(root, classes=(1, 2), n=12):
    rng = np.random.default_rng(2)
    for cls in classes:
        for split in ('Train', 'Test'):
            d = osp.join(root, f'Class{cls}', split)
            os.makedirs(osp.join(d, 'Label'))
            lines = ['1']
            for i in range(n):
                name = f'{i + 1:04d}.PNG'
                cv2.imwrite(osp.join(d, name), rng.integers(0, 255, (48, 48)).astype(np.uint8))
                defective = i % 2 == 0
                if defective:
                    mask = np.zeros((48, 48), np.uint8)
                    cv2.ellipse(mask, (24, 24), (10, 5), 30, 0, 360, 255, -1)
                    cv2.imwrite(osp.join(d, 'Label', f'{i + 1:04d}_label.PNG'), mask)
                    lines.append(f'{i + 1}\t1\t{name}\t0\t{i + 1:04d}_label.PNG')
                else:
                    lines.append(f'{i + 1}\t0\t{name}\t0\t')
            open(osp.join(d, 'Label', 'Labels.txt'), 'w').write('\n'.join(lines) + '\n')
    return root


def test_neu_seg(tmp_path):
    src = make_neu_seg(str(tmp_path / 'NEU_Seg'))
    out = str(tmp_path / 'out')
    report = convert_neu_seg(src, out)
    assert report['counts']['train']['defective'] == 9 and report['counts']['val']['defective'] == 1
    assert report['counts']['test'] == dict(defect_free=0, defective=4)
    labels = all_labels(out)
    assert labels['training_000000.jpg'] == [1, 3] and labels['training_000001.jpg'] == [2]
    for split in ('train', 'val', 'test'):
        validate_split(out, split, num_classes=4)
    mask = cv2.imread(osp.join(out, 'ann_dir', 'test', 'test_000000.png'), cv2.IMREAD_UNCHANGED)
    assert set(np.unique(mask).tolist()) == {0, 1, 3}
    # unknown mask values are named with the file
    bad = osp.join(src, 'annotations', 'training', '000002.png')
    cv2.imwrite(bad, np.full((200, 200), 9, np.uint8))
    with pytest.raises(DatasetLayoutError, match=r'000002.png holds values \[9\] outside 0..3'):
        convert_neu_seg(src, str(tmp_path / 'out2'))
    os.remove(bad)
    with pytest.raises(DatasetLayoutError, match='annotation missing for .*training/000002.jpg'):
        convert_neu_seg(src, str(tmp_path / 'out3'))


def test_ksdd2(tmp_path):
    src = make_ksdd2(str(tmp_path / 'KolektorSDD2'))
    out = str(tmp_path / 'out')
    report = convert_ksdd2(src, out)
    # 7 defective + 13 defect-free in train -> val gets round(0.7) = 1 and round(1.3) = 1
    assert report['counts']['train'] == dict(defect_free=12, defective=6)
    assert report['counts']['val'] == dict(defect_free=1, defective=1)
    assert report['counts']['test'] == dict(defect_free=4, defective=2)
    labels = all_labels(out)
    assert labels['train_10000.png'] == [1] and labels['train_10001.png'] == []
    mask = cv2.imread(osp.join(out, 'ann_dir', 'test', 'test_10003.png'), cv2.IMREAD_UNCHANGED)
    assert int(mask.sum()) == 100 and mask.max() == 1
    for split in ('train', 'test'):
        validate_split(out, split, num_classes=2, require_both=True)
    again = convert_ksdd2(src, out)
    assert again['written'] == 0 and again['reused'] == 26
    with pytest.raises(DatasetLayoutError, match=r'other options \(val_fraction differ'):
        convert_ksdd2(src, out, val_fraction=0.2)
    with pytest.raises(DatasetLayoutError, match=r"split\(s\) \['val'\] would be empty"):
        convert_ksdd2(src, str(tmp_path / 'out_small_val'), val_fraction=0.01)
    os.remove(osp.join(src, 'test', '10004_GT.png'))
    with pytest.raises(DatasetLayoutError, match=r'mask missing for .*10004.png'):
        convert_ksdd2(src, str(tmp_path / 'out2'))


def test_dagm(tmp_path):
    src = make_dagm(str(tmp_path / 'DAGM'))
    assert read_dagm_labels(osp.join(src, 'Class1', 'Train', 'Label', 'Labels.txt'))['0001.PNG'] == \
        (True, '0001_label.PNG')
    out = str(tmp_path / 'out')
    report = convert_dagm(src, out)
    assert report['counts']['test'] == dict(defect_free=12, defective=12)
    assert report['counts']['val'] == dict(defect_free=2, defective=2)  # round(0.6) per class and kind
    labels = all_labels(out)
    assert labels['Class2_Train_0001.png'] == [2] and labels['Class1_Test_0002.png'] == []
    mask = cv2.imread(osp.join(out, 'ann_dir', 'test', 'Class2_Test_0003.png'), cv2.IMREAD_UNCHANGED)
    assert set(np.unique(mask).tolist()) == {0, 2} and 100 < int((mask == 2).sum()) < 200  # the ellipse
    for split in ('train', 'test'):
        validate_split(out, split, num_classes=11, require_both=True)
    os.remove(osp.join(src, 'Class1', 'Test', 'Label', '0003_label.PNG'))
    with pytest.raises(DatasetLayoutError, match='listed as defective but its mask .*0003_label.PNG is missing'):
        convert_dagm(src, str(tmp_path / 'out2'))
    open(osp.join(src, 'Class1', 'Test', 'Label', 'Labels.txt'), 'a').write('oops\n')
    with pytest.raises(DatasetLayoutError, match=r'Labels.txt:\d+: expected'):
        convert_dagm(src, str(tmp_path / 'out3'))


@pytest.mark.parametrize('name, make, classes', [
    ('neu-seg', make_neu_seg, ('inclusion', 'patches', 'scratches')),
    ('ksdd2', make_ksdd2, ('defect', )),
    ('dagm', make_dagm, tuple(f'class{n}' for n in range(1, 11))),
])
def test_configs_and_pipeline_data_stage(repo_root, tmp_path, name, make, classes):
    from mmwsss.apis.wsss_pipeline import WSSSPipeline
    src = make(str(tmp_path / 'src'))
    pipe = Config.fromfile(osp.join(repo_root, 'configs', 'wsss', f'racam_lite0_deeplabv3plus_{name}.py'))
    pipe.data_root = str(tmp_path / 'data')
    pipe.data_preparation.src = src
    pipeline = WSSSPipeline(pipe, str(tmp_path / 'work'))
    stats = pipeline.stage_data()  # converts on first use, then validates every split
    assert stats['train']['defective'] > 0 and stats['test']['images'] > 0
    assert pipeline._segmenter_classes() == ['background', *classes]
    cls_cfg = pipeline._sub_config('classifier')
    assert cls_cfg.model.head.num_classes == len(classes)
    from mmpretrain.registry import DATASETS as CLS_DATASETS
    from mmseg.registry import DATASETS as SEG_DATASETS
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        cam_set = CLS_DATASETS.build(cls_cfg.cam_dataloader.dataset)
    assert cam_set.metainfo['classes'] == classes and len(cam_set) == stats['train']['images']
    seg_cfg = pipeline._sub_config('fully_supervised')
    with DefaultScope.overwrite_default_scope('mmseg'):
        train_set = SEG_DATASETS.build(seg_cfg.train_dataloader.dataset)
        sample = train_set[0]
    assert len(train_set) == stats['train']['images'] and sample['data_samples'].gt_sem_seg.data.max() <= len(classes)


def test_converter_command_line(tmp_path, capsys):
    from mmwsss.datasets.converters import public_set_main
    src = make_ksdd2(str(tmp_path / 'KolektorSDD2'))
    public_set_main('ksdd2', 'KolektorSDD2', [src, str(tmp_path / 'out'), '--val-fraction', '0.1'])
    out = capsys.readouterr().out
    assert 'train     12 defect-free      6 defective' in out and 'written 26' in out
    with pytest.raises(SystemExit, match='error: source folder not found'):
        public_set_main('ksdd2', 'KolektorSDD2', [str(tmp_path / 'missing'), str(tmp_path / 'out2')])


def test_place_image_copies_normalizes_and_reuses(tmp_path):
    from mmwsss.datasets.layout_writer import place_image
    rng = np.random.default_rng(0)
    jpg, deep = str(tmp_path / 'a.jpg'), str(tmp_path / 'b.png')
    cv2.imwrite(jpg, rng.integers(0, 255, (8, 10, 3), dtype=np.uint8))
    cv2.imwrite(deep, (rng.integers(0, 1024, (8, 10))).astype(np.uint16))  # 10-bit depth in a 16-bit PNG
    out = tmp_path / 'out'
    out.mkdir()
    copied = place_image(jpg, str(out), 'x')
    assert (copied.name, copied.shape, copied.reused, copied.normalized) == ('x.jpg', (8, 10), False, None)
    assert (out / 'x.jpg').read_bytes() == open(jpg, 'rb').read()  # byte for byte, no re-encoding
    scaled = place_image(deep, str(out), 'y')
    assert scaled.name == 'y.png' and scaled.normalized and not scaled.reused
    y = cv2.imread(str(out / 'y.png'), cv2.IMREAD_UNCHANGED)
    assert y.dtype == np.uint8 and y.max() > 200  # scaled by the depth used, not by 65535
    assert place_image(jpg, str(out), 'x').reused
    (out / 'x.jpg').write_bytes(b'')  # a truncated output is redone, not kept
    again = place_image(jpg, str(out), 'x')
    assert not again.reused and (out / 'x.jpg').read_bytes() == open(jpg, 'rb').read()
    assert not place_image(jpg, str(out), 'x', resume=False).reused
    (tmp_path / 'bad.png').write_bytes(b'not an image')
    with pytest.raises(DatasetLayoutError, match='bad.png'):
        place_image(str(tmp_path / 'bad.png'), str(out), 'z')
