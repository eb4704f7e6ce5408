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


def assert_resume_reuses_the_first_pass(monkeypatch, first_pass, cfg, model, out, stem, manifest):
    """Delete one label and resume: the recorded ``split_thresholds`` are reused (``first_pass`` must not run)
    and the label comes back byte for byte."""
    import mmwsss.apis.pseudo_label_generation as gen
    reference = cv2.imread(osp.join(out, stem + '.png'), cv2.IMREAD_UNCHANGED)
    os.remove(osp.join(out, stem + '.png'))

    def no_second_pass(*args, **kwargs):
        raise AssertionError(f'a resumed run must reuse the recorded thresholds, not call {first_pass}')

    monkeypatch.setattr(gen, first_pass, no_second_pass)
    again = gen.generate_pseudo_labels(cfg, None, out, model=model, progress=False)
    assert again['written'] == 1 and again['split_thresholds'] == manifest['split_thresholds']
    assert np.array_equal(cv2.imread(osp.join(out, stem + '.png'), cv2.IMREAD_UNCHANGED), reference)


def test_split_rule_labels_cut_every_image_at_the_median_otsu_and_resume_reuses_it(cls_cfg, tmp_path, monkeypatch):
    """``median_otsu``: one threshold for the split, the median of the defective images' own Otsu cuts of their
    score maps (at image size); labels are the class from that cut up, 0 below half of it, 255 between; the
    number is recorded and a resumed run labels with it instead of reading the maps again."""
    import json

    import torch
    import torch.nn.functional as F
    from mmengine.dataset import pseudo_collate
    from mmpretrain.registry import DATASETS

    import mmwsss.apis.pseudo_label_generation as gen
    from mmwsss.apis.cam_inferencer import CAMInferencer
    from mmwsss.cam import otsu_thresholds
    cls_cfg.cam = dict(cls_cfg.get('cam', {}), threshold_rule=dict(type='median_otsu', bg_ratio=0.5))
    model = tiny_model(cls_cfg)
    dataset = DATASETS.build(cls_cfg.cam_dataloader.dataset)
    batch = CAMInferencer(model, cls_cfg)(pseudo_collate([dataset[i] for i in range(len(dataset))]))
    scores = {}
    for n, s in enumerate(batch.data_samples):
        if batch.class_mask[n].any():
            full = F.interpolate(batch.cams[n:n + 1], size=tuple(s.ori_shape), mode='bilinear', align_corners=False)
            scores[osp.basename(s.img_path)[:-4]] = (full[0] * batch.class_mask[n, :, None, None]).amax(0)
    cuts = otsu_thresholds(torch.stack(list(scores.values())))
    fg = float(cuts[cuts < 1].median())  # torch's median: the lower middle value, as the rule documents

    out = str(tmp_path / 'pl')
    manifest = gen.generate_pseudo_labels(cls_cfg, None, out, model=model, progress=False)
    assert manifest['split_thresholds'] == dict(cams=[pytest.approx(fg / 2, abs=1e-6), pytest.approx(fg, abs=1e-6)])
    assert json.load(open(osp.join(out, 'manifest.json')))['split_thresholds'] == manifest['split_thresholds']
    assert 0 < fg < 1 and len(set(cuts.tolist())) > 1, 'the tiny maps must have different per-image cuts'
    for stem, score in scores.items():
        label = torch.from_numpy(cv2.imread(osp.join(out, stem + '.png'), cv2.IMREAD_UNCHANGED).astype(np.int64))
        defect = (label != 0) & (label != 255)
        assert torch.equal(defect, score >= fg) and torch.equal(label == 0, score < fg / 2), stem

    assert_resume_reuses_the_first_pass(monkeypatch, 'split_rule_thresholds', cls_cfg, model, out, stem, manifest)


def test_threshold_rule_validation_names_split_rules():
    import torch

    from mmwsss.cam.threshold_rules import image_thresholds, is_split_rule, parse_threshold_rule
    assert parse_threshold_rule(dict(type='median_otsu')) == ('median_otsu', 0.5, 256)
    assert is_split_rule(dict(type='pooled_otsu', bg_ratio=1.0)) and not is_split_rule(dict(type='otsu'))
    assert not is_split_rule(None)
    with pytest.raises(ValueError, match='split-level'):
        image_thresholds(torch.zeros(1, 2, 2), dict(type='median_otsu'), 0.1, 0.2)
    with pytest.raises(ValueError, match='must be one of'):
        parse_threshold_rule(dict(type='median'))
    with pytest.raises(ValueError, match='unknown option'):
        parse_threshold_rule(dict(type='median_otsu', q=0.5))


def test_agreement_otsu_records_class_floors_cuts_each_class_at_its_floor_and_resume_reuses_them(
        cls_cfg, tmp_path, monkeypatch):
    """``agreement_otsu``: per-image Otsu raised to a floor per class, the floors chosen in one first pass where
    the raw and refined RA-CAM maps agree best; recorded in the manifest and reused on resume. With one map
    (Grad-CAM: nothing to agree with) every floor is 0 and the labels are the plain per-image Otsu labels."""
    import json

    import torch
    import torch.nn.functional as F
    from mmengine.dataset import pseudo_collate
    from mmpretrain.registry import DATASETS

    import mmwsss.apis.pseudo_label_generation as gen
    from mmwsss.apis.cam_inferencer import CAMInferencer
    from mmwsss.cam.threshold_rules import FLOOR_GRID
    model = tiny_model(cls_cfg)
    cls_cfg.cam = dict(cls_cfg.get('cam', {}), method='racam',
                       threshold_rule=dict(type='agreement_otsu', bg_ratio=0.5))
    out = str(tmp_path / 'pl')
    manifest = gen.generate_pseudo_labels(cls_cfg, None, out, model=model, progress=False)
    floors = manifest['split_thresholds']['class_floors']
    dataset = DATASETS.build(cls_cfg.cam_dataloader.dataset)
    assert list(floors) == list(dataset.metainfo['classes'])
    assert all(f in FLOOR_GRID for f in floors.values()) and any(f > 0 for f in floors.values()), floors
    assert json.load(open(osp.join(out, 'manifest.json')))['split_thresholds'] == manifest['split_thresholds']
    batch = CAMInferencer(model, cls_cfg, 'racam')(pseudo_collate([dataset[i] for i in range(len(dataset))]))
    assert batch.raw_cams is not None, 'the RA-CAM default labels by agreement of the raw and refined maps'
    floor = torch.tensor([0.0] + list(floors.values()))
    checked = 0
    for n, s in enumerate(batch.data_samples):
        full = F.interpolate(batch.cams[n:n + 1], size=tuple(s.ori_shape), mode='bilinear', align_corners=False)
        score = (full[0] * batch.class_mask[n, :, None, None]).amax(0)
        label = torch.from_numpy(cv2.imread(osp.join(out, osp.basename(s.img_path)[:-4] + '.png'),
                                            cv2.IMREAD_UNCHANGED).astype(np.int64))
        defect = (label != 0) & (label != 255)
        assert bool((score[defect] >= floor[label[defect]] - 1e-6).all()), 'a class is never cut below its floor'
        checked += int(defect.sum())
    assert checked > 0

    stem = osp.basename(batch.data_samples[0].img_path)[:-4]
    assert_resume_reuses_the_first_pass(monkeypatch, 'class_floor_thresholds', cls_cfg, model, out, stem, manifest)
    monkeypatch.undo()

    plain, floored = str(tmp_path / 'otsu'), str(tmp_path / 'gradcam_floored')
    cls_cfg.cam = dict(cls_cfg.cam, method='gradcam', threshold_rule=dict(type='otsu', bg_ratio=0.5))
    gen.generate_pseudo_labels(cls_cfg, None, plain, model=model, progress=False)
    cls_cfg.cam = dict(cls_cfg.cam, threshold_rule=dict(type='agreement_otsu', bg_ratio=0.5))
    one_map = gen.generate_pseudo_labels(cls_cfg, None, floored, model=model, progress=False)
    assert set(one_map['split_thresholds']['class_floors'].values()) == {0.0}
    for name in os.listdir(plain):
        if name.endswith('.png'):
            assert np.array_equal(cv2.imread(osp.join(plain, name), cv2.IMREAD_UNCHANGED),
                                  cv2.imread(osp.join(floored, name), cv2.IMREAD_UNCHANGED)), name


def test_contrast_prior_narrows_defect_regions_is_recorded_and_guards_resume(cls_cfg, tiny_synthetic, tmp_path):
    """``cam.contrast_prior``: every defect pixel it keeps carries the label it had without the prior, the rest of
    a region becomes 255 (``halo='ignore'``); the manifest records it and a resume with other prior
    settings is refused."""
    model = tiny_model(cls_cfg)
    plain_dir, prior_dir = str(tmp_path / 'plain'), str(tmp_path / 'prior')
    generate_pseudo_labels(cls_cfg, None, plain_dir, bg_thr=0.2, fg_thr=0.6, model=model, progress=False)
    prior = dict(max_area=1.0, kernel=5, quantile=0.9, halo='ignore', min_peak=0.0)  # every class narrowed
    cls_cfg.cam = dict(cls_cfg.get('cam', {}), contrast_prior=prior)
    manifest = generate_pseudo_labels(cls_cfg, None, prior_dir, bg_thr=0.2, fg_thr=0.6, model=model, progress=False)
    assert manifest['contrast_prior'] == prior
    decided = manifest['contrast_prior_classes']
    assert decided and all(c['narrowed'] for c in decided.values())
    changed = 0
    for name, _ in read_image_labels(osp.join(tiny_synthetic, 'image_labels', 'train.txt')):
        plain, narrowed = (cv2.imread(osp.join(d, name[:-4] + '.png'), cv2.IMREAD_UNCHANGED)
                           for d in (plain_dir, prior_dir))
        differ = plain != narrowed
        assert np.all(narrowed[differ] == 255) and np.all((plain[differ] > 0) & (plain[differ] != 255))
        changed += int(differ.any())
    assert changed > 0
    cls_cfg.cam.contrast_prior = dict(prior, quantile=0.95)
    with pytest.raises(ValueError, match=r'other settings \(contrast_prior differ'):
        generate_pseudo_labels(cls_cfg, None, prior_dir, bg_thr=0.2, fg_thr=0.6, model=model, progress=False)


def read_labels(folder):
    return {f: cv2.imread(osp.join(folder, f), cv2.IMREAD_UNCHANGED) for f in os.listdir(folder) if f.endswith('.png')}


def rows_by_image(folder):
    from mmwsss.visualization.pseudo_label_review import read_confidence
    return {row['image']: row for row in read_confidence(folder)}


def test_contrast_prior_decides_per_class_over_the_split_and_settles_after_an_interruption(cls_cfg, tiny_synthetic,
                                                                                         tmp_path, monkeypatch):
    """Every class whose median peak ratio (the ``prior_peak`` column over its regions) reaches ``min_peak`` keeps
    the narrowed labels of ``min_peak=0``; the others get their plain labels and rows back, also when the run
    dies while it puts them back."""
    import statistics

    import torch

    import mmwsss.apis.pseudo_label_generation as gen
    from mmwsss.cam.contrast_prior import ContrastPrior
    model = tiny_model(cls_cfg)
    plain_dir, all_dir, split_dir = (str(tmp_path / d) for d in ('plain', 'all', 'split'))
    generate_pseudo_labels(cls_cfg, None, plain_dir, bg_thr=0.2, fg_thr=0.6, model=model, progress=False)
    prior = dict(max_area=1.0, kernel=5, quantile=0.9, halo='background', min_peak=0.0)
    cls_cfg.cam = dict(cls_cfg.get('cam', {}), contrast_prior=prior)
    generate_pseudo_labels(cls_cfg, None, all_dir, bg_thr=0.2, fg_thr=0.6, model=model, progress=False)
    plain, narrowed, rows = read_labels(plain_dir), read_labels(all_dir), rows_by_image(all_dir)
    for name, label in plain.items():  # min_peak=0: the image-level rule on every label
        gray = torch.from_numpy(cv2.imread(rows[name]['img_path'], cv2.IMREAD_GRAYSCALE))
        assert np.array_equal(ContrastPrior(**prior)(torch.from_numpy(label), gray).numpy(), narrowed[name]), name
    peaks = {}
    for row in rows.values():
        if row['prior_class']:
            peaks.setdefault(row['prior_class'], []).append(float(row['prior_peak']))
    assert len(peaks) >= 2, 'the tiny set should give small regions of two classes at least'
    medians = sorted(statistics.median(v) for v in peaks.values())
    min_peak = (medians[0] + medians[1]) / 2  # between the two lowest class medians: one class is left alone
    cls_cfg.cam.contrast_prior = dict(prior, min_peak=min_peak)

    real_replace = gen.os.replace
    restored = []

    def dying_replace(src, dst):  # every atomic write ends in os.replace too: only putting a copy back dies
        settling = osp.dirname(src).endswith(gen.UNNARROWED_DIR) and not osp.basename(src).startswith('.tmp_')
        if settling and restored:
            raise KeyboardInterrupt('simulated kill while settling')
        restored.extend([src] if settling else [])
        real_replace(src, dst)

    monkeypatch.setattr(gen.os, 'replace', dying_replace)
    with pytest.raises(KeyboardInterrupt):
        generate_pseudo_labels(cls_cfg, None, split_dir, bg_thr=0.2, fg_thr=0.6, model=model, progress=False)
    monkeypatch.setattr(gen.os, 'replace', real_replace)
    assert len(restored) == 1 and osp.isdir(osp.join(split_dir, gen.UNNARROWED_DIR))
    manifest = generate_pseudo_labels(cls_cfg, None, split_dir, bg_thr=0.2, fg_thr=0.6, model=model, progress=False)
    assert manifest['written'] == 0 and not osp.exists(osp.join(split_dir, gen.UNNARROWED_DIR))
    decided = manifest['contrast_prior_classes']
    for name, values in peaks.items():
        assert decided[name] == dict(regions=len(values), median_peak=round(statistics.median(values), 4),
                                     narrowed=statistics.median(values) >= min_peak)
    assert sorted(c['narrowed'] for c in decided.values())[:2] == [False, True]
    split, split_rows, plain_rows = read_labels(split_dir), rows_by_image(split_dir), rows_by_image(plain_dir)
    for name, label in split.items():
        keep = rows[name]['prior_class'] and decided[rows[name]['prior_class']]['narrowed']
        assert np.array_equal(label, narrowed[name] if keep else plain[name]), name
        fields = rows if keep else plain_rows
        for key in gen.ROW_FIELDS:
            assert split_rows[name][key] == fields[name][key], (name, key)

    # a resume keeps the recorded decision (the labels on disk follow it), whatever the rows would say now
    monkeypatch.setattr(ContrastPrior, 'narrowed_classes', lambda self, ratios: {
        k: dict(regions=len(v), median_peak=0.0, narrowed=True) for k, v in ratios.items()})
    again = generate_pseudo_labels(cls_cfg, None, split_dir, bg_thr=0.2, fg_thr=0.6, model=model, progress=False)
    assert again['written'] == 0 and again['contrast_prior_classes'] == decided
    monkeypatch.undo()
    # --no-resume: copies an earlier run left behind are dropped before the first label
    stale = osp.join(split_dir, gen.UNNARROWED_DIR)
    os.makedirs(stale)
    for name in split:
        cv2.imwrite(osp.join(stale, name), np.full_like(split[name], 7))
        with open(osp.join(stale, name[:-4] + '.json'), 'w') as f:
            f.write('{"confidence": -1}')
    fresh = generate_pseudo_labels(cls_cfg, None, split_dir, bg_thr=0.2, fg_thr=0.6, model=model, progress=False,
                                   resume=False)
    assert fresh['written'] == len(split) and fresh['contrast_prior_classes'] == decided
    assert not osp.exists(stale)
    for name, label in read_labels(split_dir).items():
        assert np.array_equal(label, split[name]), name
