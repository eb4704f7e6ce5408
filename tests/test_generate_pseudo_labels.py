import os
import os.path as osp

import cv2
import numpy as np
import pytest

from mmwsss.apis import prepare_config
from mmwsss.apis.pseudo_label_generation import check_output_dir, generate_pseudo_labels
from mmwsss.datasets.layout import read_image_labels


@pytest.fixture
def cls_cfg(repo_root, tiny_synthetic):
    return prepare_config(
        osp.join(repo_root, 'configs', 'classifier', 'resnet18-w32_1xb16-25e_synthetic-128x128.py'),
        data_root=tiny_synthetic,
        cfg_options={'cam_dataloader.num_workers': 0, 'cam_dataloader.batch_size': 5,
                     'model.backbone.base_channels': 8, 'model.backbone.stem_channels': 8,
                     'model.head.in_channels': 64})


def tiny_model(cfg):
    import torch
    from mmengine.registry import DefaultScope
    from mmpretrain.registry import MODELS
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(cfg.model)
    model.init_weights()
    with torch.no_grad():  # positive class weights: non-degenerate Grad-CAM maps for every class
        model.head.fc.weight.abs_()
    return model.eval()


def test_generation_rules_resume_and_manifest(cls_cfg, tiny_synthetic, tmp_path):
    out = str(tmp_path / 'pl')
    model = tiny_model(cls_cfg)
    first = generate_pseudo_labels(cls_cfg, None, out, bg_thr=0.2, fg_thr=0.6, model=model, progress=False)
    assert first['written'] == first['images'] == 24 and first['method'] == 'gradcam'
    entries = read_image_labels(osp.join(tiny_synthetic, 'image_labels', 'train.txt'))
    saw_ignore = False
    for name, labels in entries:
        pl = cv2.imread(osp.join(out, name[:-4] + '.png'), cv2.IMREAD_UNCHANGED)
        assert pl.shape == (64, 64)  # written at the original image size
        values = set(np.unique(pl).tolist())
        assert values <= {0, 255} | set(labels)
        assert values == {0} if not labels else bool(values & set(labels))
        saw_ignore |= 255 in values
    assert saw_ignore, 'the uncertainty band (255) should appear between the two thresholds'

    reference = {n: cv2.imread(osp.join(out, n[:-4] + '.png'), cv2.IMREAD_UNCHANGED) for n, _ in entries}
    os.remove(osp.join(out, entries[0][0][:-4] + '.png'))
    with open(osp.join(out, entries[1][0][:-4] + '.png'), 'wb') as f:
        f.write(b'\x89PNG truncated')  # an interrupted, non-atomic write would look like this
    again = generate_pseudo_labels(cls_cfg, None, out, bg_thr=0.2, fg_thr=0.6, model=model, progress=False)
    assert again['written'] == 2
    for name, _ in entries:
        assert np.array_equal(cv2.imread(osp.join(out, name[:-4] + '.png'), cv2.IMREAD_UNCHANGED), reference[name])
    assert not [f for f in os.listdir(out) if f.startswith('.tmp_')], 'no temporary files left behind'


def test_refuses_dataset_folders_and_bad_thresholds(cls_cfg, tiny_synthetic, tmp_path):
    for bad in (osp.join(tiny_synthetic, 'ann_dir', 'train'), osp.join(tiny_synthetic, 'img_dir'), tiny_synthetic):
        with pytest.raises(ValueError, match='refusing to write'):
            check_output_dir(bad, tiny_synthetic)
    check_output_dir(str(tmp_path / 'elsewhere'), tiny_synthetic)
    with pytest.raises(ValueError, match='bg_thr'):
        generate_pseudo_labels(cls_cfg, None, str(tmp_path / 'x'), bg_thr=0.7, fg_thr=0.5,
                               model=tiny_model(cls_cfg), progress=False)
    with pytest.raises(FileNotFoundError, match='classifier checkpoint not found'):
        generate_pseudo_labels(cls_cfg, str(tmp_path / 'none.pth'), str(tmp_path / 'y'), progress=False)


def test_interrupted_run_is_checked_on_resume(cls_cfg, tmp_path, monkeypatch):
    """The settings manifest is written before the first label: a resume with other thresholds after an
    interruption is refused instead of mixing old PNGs with new settings."""
    import json

    import mmwsss.apis.pseudo_label_generation as gen
    out = str(tmp_path / 'pl')
    model = tiny_model(cls_cfg)
    real_write, calls = gen.atomic_write_png, []

    def dying_write(path, array):
        if len(calls) == 5:
            raise KeyboardInterrupt('simulated kill')
        calls.append(path)
        real_write(path, array)

    monkeypatch.setattr(gen, 'atomic_write_png', dying_write)
    with pytest.raises(KeyboardInterrupt):
        generate_pseudo_labels(cls_cfg, None, out, bg_thr=0.2, fg_thr=0.6, model=model, progress=False)
    monkeypatch.setattr(gen, 'atomic_write_png', real_write)
    manifest = json.load(open(osp.join(out, 'manifest.json')))
    assert manifest['status'] == 'incomplete' and manifest['fg_thr'] == 0.6
    assert len([f for f in os.listdir(out) if f.endswith('.png')]) == 5
    with pytest.raises(ValueError, match=r'other settings \(bg_thr, fg_thr differ'):
        generate_pseudo_labels(cls_cfg, None, out, bg_thr=0.1, fg_thr=0.5, model=model, progress=False)
    done = generate_pseudo_labels(cls_cfg, None, out, bg_thr=0.2, fg_thr=0.6, model=model, progress=False)
    assert done['written'] == 19 and done['status'] == 'complete'
    # label files without any manifest have unknown settings
    os.remove(osp.join(out, 'manifest.json'))
    with pytest.raises(ValueError, match='label PNGs but no manifest.json'):
        generate_pseudo_labels(cls_cfg, None, out, bg_thr=0.2, fg_thr=0.6, model=model, progress=False)


def test_gt_free_rule_thresholds_each_image_and_is_recorded(cls_cfg, tiny_synthetic, tmp_path):
    import json

    import torch

    from mmwsss.cam import otsu_thresholds
    cls_cfg.cam = dict(cls_cfg.get('cam', {}), threshold_rule=dict(type='otsu', bg_ratio=1.0))
    out = str(tmp_path / 'pl')
    model = tiny_model(cls_cfg)
    manifest = generate_pseudo_labels(cls_cfg, None, out, model=model, progress=False)
    assert manifest['threshold_rule'] == dict(type='otsu', bg_ratio=1.0)
    assert json.load(open(osp.join(out, 'manifest.json')))['threshold_rule'] == dict(type='otsu', bg_ratio=1.0)
    # bg_ratio 1: no band; a defective image's label is its class exactly where its map reaches its Otsu cut
    name, labels = next((n, lab) for n, lab in read_image_labels(osp.join(tiny_synthetic, 'image_labels',
                                                                           'train.txt')) if len(lab) == 1)
    pl = cv2.imread(osp.join(out, name[:-4] + '.png'), cv2.IMREAD_UNCHANGED)
    assert set(np.unique(pl).tolist()) <= {0, labels[0]} and (pl == labels[0]).any()
    with pytest.raises(ValueError, match=r'other settings \(threshold_rule differ'):
        cls_cfg.cam.threshold_rule = dict(type='otsu', bg_ratio=0.5)
        generate_pseudo_labels(cls_cfg, None, out, model=model, progress=False)
    assert otsu_thresholds(torch.zeros(1, 2, 2)).item() == 1.0


def test_only_decode_errors_count_as_bad_images(cls_cfg, tmp_path, monkeypatch):
    """A programming error while loading a sample propagates; it is never turned into a skipped 'bad image'."""
    from mmpretrain.datasets import BaseDataset
    model = tiny_model(cls_cfg)

    def broken(self, idx):
        raise TypeError('a bug in a transform')

    monkeypatch.setattr(BaseDataset, '__getitem__', broken)
    with pytest.raises(TypeError, match='a bug in a transform'):
        generate_pseudo_labels(cls_cfg, None, str(tmp_path / 'pl'), model=model, progress=False, skip_bad=True)


def test_fusion_settings_guard_resume(cls_cfg, tmp_path):
    """RA-CAM fuses its maps with the classifier's neck: the neck's options are settings of the labels (a resume
    with other fusion options would mix labels; failed before the manifest recorded them)."""
    import json
    out = str(tmp_path / 'pl')
    model = tiny_model(cls_cfg)
    manifest = generate_pseudo_labels(cls_cfg, None, out, method='racam', model=model, progress=False)
    assert manifest['fusion'] == json.loads(json.dumps(cls_cfg.model.neck))
    cls_cfg.model.neck.p = 2.0
    with pytest.raises(ValueError, match=r'other settings \(fusion differ'):
        generate_pseudo_labels(cls_cfg, None, out, method='racam', model=model, progress=False)
    baseline = generate_pseudo_labels(cls_cfg, None, str(tmp_path / 'gc'), method='gradcam', model=model,
                                      progress=False)
    assert baseline['fusion'] is None  # baselines do not use the neck's fusion
