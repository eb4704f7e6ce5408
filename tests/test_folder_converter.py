"""Own OK/NG folder trees -> mmwsss layout + generated configs; every bad input fails with a message."""
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.config import Config

from mmwsss.apis.config_generation import write_dataset_configs
from mmwsss.datasets import DatasetLayoutError, read_image_labels, validate_split
from mmwsss.datasets.folder_converter import convert_folders
from mmwsss.datasets.image_normalization import normalize_image

SIZE = (24, 32)  # H, W


def make_tree(root, counts=None, masks=True, seed=0):
    """good/ (defect-free), dent/, scratch/ (+ masks/<class>/<stem>.png, binary 0/255)."""
    counts = counts or dict(good=10, dent=10, scratch=10)
    rng = np.random.default_rng(seed)
    for folder, n in counts.items():
        os.makedirs(osp.join(root, 'images', folder), exist_ok=True)
        for i in range(n):
            img = rng.integers(0, 200, SIZE).astype(np.uint8)
            cv2.imwrite(osp.join(root, 'images', folder, f'{folder}_{i:03d}.png'), img)
            if masks and folder != 'good':
                os.makedirs(osp.join(root, 'masks', folder), exist_ok=True)
                mask = np.zeros(SIZE, np.uint8)
                mask[2:6, 3 + i % 5:9 + i % 5] = 255
                cv2.imwrite(osp.join(root, 'masks', folder, f'{folder}_{i:03d}.png'), mask)
    return osp.join(root, 'images'), osp.join(root, 'masks')


def test_convert_tree_labels_masks_split_and_resume(tmp_path):
    images, masks = make_tree(str(tmp_path / 'src'))
    out = str(tmp_path / 'out')
    before = sorted(os.listdir(osp.join(images, 'dent')))
    report = convert_folders(images, out, ok=['good'], mask_root=masks)
    assert report['classes'] == ['background', 'dent', 'scratch']
    # stratified 0.7 / 0.1 / 0.2 of 10 per folder
    assert report['counts']['train'] == dict(defect_free=7, defective=14, with_masks=21)
    assert report['counts']['test'] == dict(defect_free=2, defective=4, with_masks=6)
    for split in ('train', 'val', 'test'):
        validate_split(out, split, num_classes=3, require_both=split != 'val')
    entries = dict(read_image_labels(osp.join(out, 'image_labels', 'train.txt')))
    scratch = next(n for n in entries if n.startswith('scratch__'))
    good = next(n for n in entries if n.startswith('good__'))
    assert entries[scratch] == [2] and entries[good] == []
    mask = cv2.imread(osp.join(out, 'ann_dir', 'train', scratch[:-4] + '.png'), cv2.IMREAD_UNCHANGED)
    assert set(np.unique(mask).tolist()) == {0, 2} and int((mask == 2).sum()) == 24
    src_img = cv2.imread(osp.join(images, 'scratch', scratch.split('__', 1)[1]), cv2.IMREAD_UNCHANGED)
    assert np.array_equal(cv2.imread(osp.join(out, 'img_dir', 'train', scratch), cv2.IMREAD_UNCHANGED), src_img)
    info = json.load(open(osp.join(out, 'dataset_info.json')))
    assert info['classes'] == report['classes'] and len(info['palette']) == 3
    assert sorted(os.listdir(osp.join(images, 'dent'))) == before, 'the source tree is never modified'

    # idempotent: same options -> every file verified and reused, same labels
    labels = open(osp.join(out, 'image_labels', 'test.txt')).read()
    again = convert_folders(images, out, ok=['good'], mask_root=masks)
    assert again['written'] == 0 and again['reused'] == 30
    assert open(osp.join(out, 'image_labels', 'test.txt')).read() == labels
    # an output file cut short by an interruption is redone
    victim = osp.join(out, 'img_dir', 'train', scratch)
    open(victim, 'wb').write(b'\x89PNG trunc')
    third = convert_folders(images, out, ok=['good'], mask_root=masks)
    assert third['written'] == 1 and np.array_equal(cv2.imread(victim, cv2.IMREAD_UNCHANGED), src_img)
    # other options into the same folder are refused
    with pytest.raises(DatasetLayoutError, match=r'other options \(seed differ'):
        convert_folders(images, out, ok=['good'], mask_root=masks, seed=1)


def test_generated_configs_build_with_folder_classes(tmp_path, repo_root):
    images, masks = make_tree(str(tmp_path / 'src'))
    out = str(tmp_path / 'out')
    convert_folders(images, out, ok=['good'], mask_root=masks)
    paths = write_dataset_configs(out, str(tmp_path / 'cfg'), 'line3', template='r18')
    assert set(paths) == {'classifier', 'segmenter', 'segmenter_gt', 'pipeline'}
    from mmengine.registry import DefaultScope
    from mmpretrain.registry import DATASETS as CLS_DATASETS
    from mmseg.registry import DATASETS as SEG_DATASETS
    cls_cfg = Config.fromfile(paths['classifier'])
    assert cls_cfg.model.head.num_classes == 2
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        cam_set = CLS_DATASETS.build(cls_cfg.cam_dataloader.dataset)
        train_set = CLS_DATASETS.build(cls_cfg.train_dataloader.dataset)  # class-balanced wrapper
    assert cam_set.metainfo['classes'] == ('dent', 'scratch') and len(cam_set) == 21
    assert len(train_set) >= 21
    seg_cfg = Config.fromfile(paths['segmenter'])
    assert seg_cfg.model.decode_head.num_classes == 3 and seg_cfg.train_dataloader.dataset.type == 'PseudoLabelDataset'
    with DefaultScope.overwrite_default_scope('mmseg'):
        test_set = SEG_DATASETS.build(seg_cfg.test_dataloader.dataset)
    assert test_set.metainfo['classes'] == ('background', 'dent', 'scratch') and len(test_set) == 6
    assert test_set[0]['data_samples'].gt_sem_seg.data.max() <= 2
    pipe = Config.fromfile(paths['pipeline'])
    # GT-free thresholds: the per-image Otsu rule, no MTD-tuned number inherited
    assert pipe.cam.threshold_rule == dict(type='otsu', bg_ratio=0.5) and 'bg_thr' not in pipe.cam
    assert pipe.data_root == osp.abspath(out) and pipe.fully_supervised.config.endswith('line3_segmenter-gt.py')
    # the r18 template's bound trains as long as its weak segmenter: no schedule of its own
    assert 'max_iters' not in open(paths['segmenter_gt']).read()
    assert Config.fromfile(paths['segmenter_gt']).train_cfg == seg_cfg.train_cfg
    from mmwsss.apis.wsss_pipeline import WSSSPipeline
    pipeline = WSSSPipeline(pipe, str(tmp_path / 'work'))
    assert pipeline._segmenter_classes() == ['background', 'dent', 'scratch']
    stats = pipeline.stage_data()
    assert stats['train']['defective'] == 14


def test_partial_masks_go_to_evaluation_splits(tmp_path):
    images, masks = make_tree(str(tmp_path / 'src'), counts=dict(good=10, dent=12, scratch=12))
    for cls in ('dent', 'scratch'):  # keep masks for 4 images per class only
        for name in sorted(os.listdir(osp.join(masks, cls)))[4:]:
            os.remove(osp.join(masks, cls, name))
    report = convert_folders(images, str(tmp_path / 'out'), ok=['good'], mask_root=masks)
    c = report['counts']
    assert c['train']['defective'] == 16 and c['val']['defective'] + c['test']['defective'] == 8
    assert report['masks'] == dict(train=False, val=True, test=True)
    assert not osp.isdir(str(tmp_path / 'out' / 'ann_dir' / 'train'))


def test_16bit_rgba_and_grayscale_inputs(tmp_path):
    images, _ = make_tree(str(tmp_path / 'src'), masks=False)
    deep = np.full(SIZE, 4095, np.uint16)
    deep[0, 0] = 0
    cv2.imwrite(osp.join(images, 'dent', 'deep.png'), deep)  # 12-bit data in a 16-bit file
    rgba = np.zeros(SIZE + (4, ), np.uint8)
    rgba[..., 2] = 200
    rgba[..., 3] = 10
    cv2.imwrite(osp.join(images, 'scratch', 'rgba.png'), rgba)
    report = convert_folders(images, str(tmp_path / 'out'), ok=['good'])
    notes = {osp.basename(n['file']): n['note'] for n in report['normalized']}
    assert notes == {'deep.png': '12-bit -> 8-bit', 'rgba.png': 'alpha dropped'}
    img = normalize_image(deep, 'deep.png')[0]
    assert img.dtype == np.uint8 and img.max() == 255 and img[0, 0] == 0  # full contrast kept
    out = normalize_image(rgba, 'rgba.png')[0]
    assert out.shape == SIZE + (3, ) and (out[..., 2] == 200).all()
    with pytest.raises(DatasetLayoutError, match='floating-point image f.tif'):
        normalize_image(np.zeros(SIZE, np.float32), 'f.tif')


@pytest.mark.parametrize('case, message', [
    ('zero_byte', r'empty \(zero-byte\) image file: .*dent_003.png.*--skip-bad'),
    ('corrupt', r'unreadable or corrupt image: .*dent_003.png.*--skip-bad'),
    ('mask_size', r'mask size 5x5 differs from its image \(32x24\): .*masks/dent/dent_003.png'),
    ('mask_values', r'mask .*dent_003.png holds values \[0, 7, 255\]: binary masks .* --mask-thr 128'),
    ('symlink_loop', r'folder symlink loop: .*dent.*sub.*back points back to .*dent'),
    ('truncated_jpeg', r'truncated image file \(its end marker is missing\): .*dent_cut.jpg.*--skip-bad'),
    ('empty_class', r'class folder .*empty holds no images.*--ignore empty'),
    ('no_ok_folder', r"defect-free folder\(s\) \['OK'\] not found"),
    ('few_ok', r"split 'test' would hold no defect-free images"),
    ('ok_mask', r'marks defect pixels on an image filed as defect-free'),
])
def test_bad_inputs_fail_with_messages(tmp_path, case, message):
    images, masks = make_tree(str(tmp_path / 'src'), counts=dict(good=1 if case == 'few_ok' else 10, dent=10,
                                                                 scratch=10))
    bad = osp.join(images, 'dent', 'dent_003.png')
    ok = ['OK'] if case == 'no_ok_folder' else ['good']
    if case == 'zero_byte':
        open(bad, 'wb').close()
    elif case == 'corrupt':
        open(bad, 'wb').write(b'not an image at all')
    elif case == 'mask_size':
        cv2.imwrite(osp.join(masks, 'dent', 'dent_003.png'), np.zeros((5, 5), np.uint8))
    elif case == 'mask_values':
        m = np.zeros(SIZE, np.uint8)
        m[0, 0], m[0, 1] = 7, 255
        cv2.imwrite(osp.join(masks, 'dent', 'dent_003.png'), m)
    elif case == 'symlink_loop':
        os.makedirs(osp.join(images, 'dent', 'sub'))
        os.symlink(osp.join(images, 'dent'), osp.join(images, 'dent', 'sub', 'back'))
    elif case == 'truncated_jpeg':  # OpenCV decodes it with grey rows and a warning that names no file
        data = cv2.imencode('.jpg', np.random.default_rng(0).integers(0, 255, (64, 64)).astype(np.uint8))[1]
        open(osp.join(images, 'dent', 'dent_cut.jpg'), 'wb').write(data.tobytes()[:len(data) // 2])
        assert cv2.imread(osp.join(images, 'dent', 'dent_cut.jpg')) is not None
    elif case == 'empty_class':
        os.makedirs(osp.join(images, 'empty'))
    elif case == 'ok_mask':
        os.makedirs(osp.join(masks, 'good'))
        cv2.imwrite(osp.join(masks, 'good', 'good_000.png'), np.full(SIZE, 255, np.uint8))
    with pytest.raises(DatasetLayoutError, match=message):
        convert_folders(images, str(tmp_path / 'out'), ok=ok, mask_root=masks)


def test_skip_bad_reports_instead_of_failing(tmp_path):
    images, masks = make_tree(str(tmp_path / 'src'))
    open(osp.join(images, 'dent', 'dent_003.png'), 'wb').close()
    report = convert_folders(images, str(tmp_path / 'out'), ok=['good'], mask_root=masks, skip_bad=True)
    assert [osp.basename(s['file']) for s in report['skipped']] == ['dent_003.png']
    assert 'zero-byte' in report['skipped'][0]['reason']
    total = sum(c['defect_free'] + c['defective'] for c in report['counts'].values())
    assert total == 29


def test_identical_image_in_two_defect_folders_is_multi_label(tmp_path):
    images, masks = make_tree(str(tmp_path / 'src'), masks=False)
    with open(osp.join(images, 'dent', 'dent_003.png'), 'rb') as f:
        data = f.read()
    open(osp.join(images, 'scratch', 'dent_003.png'), 'wb').write(data)
    with pytest.raises(DatasetLayoutError, match='--multi-label'):
        convert_folders(images, str(tmp_path / 'out'), ok=['good'])
    report = convert_folders(images, str(tmp_path / 'out2'), ok=['good'], multi_label=True)
    labels = {n: lab for s in ('train', 'val', 'test')
              for n, lab in read_image_labels(str(tmp_path / 'out2' / 'image_labels' / f'{s}.txt'))}
    assert labels['dent__dent_003.png'] == [1, 2] and len(labels) == 30
    assert report['counts']['train']['defective'] + report['counts']['val']['defective'] + \
        report['counts']['test']['defective'] == 20
    open(osp.join(images, 'good', 'dent_003.png'), 'wb').write(data)
    with pytest.raises(DatasetLayoutError, match='filed as defect-free'):
        convert_folders(images, str(tmp_path / 'out3'), ok=['good'], multi_label=True)


def test_generated_lite0_configs_use_the_small_defect_recipe(tmp_path):
    images, masks = make_tree(str(tmp_path / 'src'))
    out = str(tmp_path / 'out')
    convert_folders(images, out, ok=['good'], mask_root=masks)
    paths = write_dataset_configs(out, str(tmp_path / 'cfg'), 'line3', template='lite0')
    seg_cfg = Config.fromfile(paths['segmenter'])
    # the MTD pipeline's recipe: Semantic-FPN, 128 px defect-centred crops, class-balanced sampling, 2000 iterations
    assert seg_cfg.model.decode_head.type == 'FPNHead'
    assert seg_cfg.train_dataloader.sampler.type == 'ClassBalancedSampler'
    assert seg_cfg.model.decode_head.num_classes == 3 and seg_cfg.model.auxiliary_head.num_classes == 3
    assert seg_cfg.train_cfg.max_iters == 2000 and seg_cfg.train_cfg.val_interval == 500
    data = seg_cfg.train_dataloader.dataset.dataset
    assert data.data_root == osp.abspath(out) and seg_cfg.test_dataloader.dataset.data_root == osp.abspath(out)
    # images larger than 1024 px scaled down: after the labels in training, before the GT at test time
    train_types = [s['type'] for s in data.pipeline]
    test_types = [s['type'] for s in seg_cfg.test_dataloader.dataset.pipeline]
    assert train_types[:4] == ['LoadImageFromFile', 'LoadAnnotations', 'LimitLongestSide', 'RandomRescale']
    assert 'DefectCenteredCrop' in train_types and seg_cfg.max_side == 1024 and data.pipeline[2]['max_side'] == 1024
    assert 'max_side=max_side' in open(paths['segmenter']).read()  # one variable sets both pipelines
    assert test_types == ['LoadImageFromFile', 'LimitLongestSide', 'LoadAnnotations', 'PackSegInputs']
    assert seg_cfg.val_dataloader.dataset.pipeline == seg_cfg.test_dataloader.dataset.pipeline
    pipe = Config.fromfile(paths['pipeline'])
    assert pipe.segmenter.amp is True and pipe.fully_supervised.amp is True
    # as the MTD pipeline: the bound trains NHWC, the weak segmenter and the (fp32) classifier NCHW
    assert not pipe.classifier.get('amp') and not pipe.classifier.get('channels_last')
    assert pipe.fully_supervised.channels_last is True and not pipe.segmenter.get('channels_last')
    assert not pipe.classifier.cfg_options  # the classifier config's own 12-epoch schedule, not MTD's 4-epoch budget
    assert pipe.cam.method == 'racam' and pipe.cam.threshold_rule == dict(type='otsu', bg_ratio=0.5)
    gt_cfg = Config.fromfile(paths['segmenter_gt'])
    assert gt_cfg.train_dataloader.dataset.pseudo_label_dir is None and gt_cfg.model.decode_head.num_classes == 3
    assert gt_cfg.model.type == 'LogitAdjustedEncoderDecoder' and seg_cfg.model.type == 'EncoderDecoder'
    # the bound trains as long as the MTD pipeline's bound (4000 it.), the weak segmenter 2000
    assert (gt_cfg.train_cfg.max_iters, gt_cfg.train_cfg.val_interval) == (4000, 1000)
    assert seg_cfg.train_cfg.max_iters == 2000
    assert [s['type'] for s in gt_cfg.train_dataloader.dataset.dataset.pipeline] == train_types
    from mmengine.registry import DefaultScope
    from mmseg.registry import DATASETS as SEG_DATASETS
    with DefaultScope.overwrite_default_scope('mmseg'):
        test_set = SEG_DATASETS.build(seg_cfg.test_dataloader.dataset)
    assert len(test_set) == 6 and test_set[0]['data_samples'].gt_sem_seg.data.max() <= 2
    from mmwsss.apis.wsss_pipeline import WSSSPipeline
    assert WSSSPipeline(pipe, str(tmp_path / 'work'))._segmenter_classes() == ['background', 'dent', 'scratch']


def test_generated_configs_scale_large_images_down_and_predict_at_full_size(tmp_path, monkeypatch):
    import torch
    from mmengine.registry import DefaultScope
    from mmseg.registry import DATASETS as SEG_DATASETS
    from mmseg.registry import MODELS

    from mmwsss.apis import config_generation
    images, masks = make_tree(str(tmp_path / 'src'))  # 24 x 32 images
    out = str(tmp_path / 'out')
    convert_folders(images, out, ok=['good'], mask_root=masks)
    monkeypatch.setitem(config_generation.MAX_NATIVE_SIDE, 'lite0', 16)  # s = 16 / 32: 12 x 16
    seg_cfg = Config.fromfile(write_dataset_configs(out, str(tmp_path / 'cfg'), 'line3')['segmenter'])
    with DefaultScope.overwrite_default_scope('mmseg'):
        sample = SEG_DATASETS.build(seg_cfg.test_dataloader.dataset)[0]
        meta = sample['data_samples'].metainfo
        assert tuple(sample['inputs'].shape[1:]) == (12, 16) and meta['img_shape'] == (12, 16)
        assert meta['ori_shape'] == (24, 32) and tuple(sample['data_samples'].gt_sem_seg.data.shape[1:]) == (24, 32)
        seg_cfg.model.backbone.init_cfg = None  # no ImageNet weights needed to check shapes
        model = MODELS.build(seg_cfg.model).eval()
        with torch.no_grad():
            pred = model.test_step(dict(inputs=[sample['inputs']], data_samples=[sample['data_samples']]))[0]
    assert tuple(pred.pred_sem_seg.data.shape[1:]) == (24, 32)  # back at the image's own size, where the GT is


def test_refuses_output_inside_source(tmp_path):
    images, _ = make_tree(str(tmp_path / 'src'), masks=False)
    with pytest.raises(DatasetLayoutError, match='must not contain each other'):
        convert_folders(images, osp.join(images, 'converted'), ok=['good'])


def test_cli_end_to_end(tmp_path, repo_root):
    import subprocess
    import sys
    images, masks = make_tree(str(tmp_path / 'src'))
    out = str(tmp_path / 'line3')
    proc = subprocess.run([sys.executable, osp.join(repo_root, 'tools', 'dataset_converters', 'folders.py'), images,
                           '--ok', 'good', '--masks', masks, '--out', out], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert 'classes: dent, scratch' in proc.stdout and 'wsss_line3.py' in proc.stdout
    assert osp.isfile(osp.join(out, 'configs', 'wsss_line3.py'))
    proc = subprocess.run([sys.executable, osp.join(repo_root, 'tools', 'dataset_converters', 'folders.py'), images,
                           '--ok', 'nope', '--out', str(tmp_path / 'x')], capture_output=True, text=True)
    assert proc.returncode != 0 and "defect-free folder(s) ['nope'] not found" in proc.stderr


def test_report_palette_from_metainfo_or_type():
    from mmwsss.datasets.builtin_datasets import MTD_PALETTE
    from mmwsss.visualization.panels import dataset_palette, default_palette
    two = dict(classes=('a', 'b'), palette=[[1, 2, 3], [4, 5, 6]])
    assert dataset_palette(dict(type='DefectSegDataset', metainfo=two), 2) == [[1, 2, 3], [4, 5, 6]]
    assert dataset_palette(dict(type='MTDDataset'), 6) == MTD_PALETTE
    three = dict(type='DefectSegDataset', metainfo=dict(classes=('a', 'b', 'c')))
    assert dataset_palette(three, 3) == default_palette(3)
