"""Pseudo-label generation: two processes (torchrun, gloo) write the same files as one; resume after an
interruption; bad inputs (corrupt image, other classes, other settings) fail with messages or are skipped; the review
queue and galleries built from confidence.csv."""
import csv
import json
import os
import os.path as osp
import shutil
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch

from mmwsss.apis import prepare_config
from mmwsss.apis.pseudo_label_generation import generate_pseudo_labels, pseudo_label_confidence
from mmwsss.datasets import DatasetLayoutError

OPTIONS = {'cam_dataloader.num_workers': 0, 'cam_dataloader.batch_size': 5, 'model.backbone.base_channels': 8,
           'model.backbone.stem_channels': 8, 'model.head.in_channels': 64}
CLS_CONFIG = ('configs', 'classifier', 'resnet18-w32_1xb16-25e_synthetic-128x128.py')


@pytest.fixture
def cls_cfg(repo_root, tiny_synthetic):
    return prepare_config(osp.join(repo_root, *CLS_CONFIG), data_root=tiny_synthetic, cfg_options=OPTIONS)


@pytest.fixture
def checkpoint(cls_cfg, tmp_path):
    """A tiny classifier saved like mmengine does (state_dict + meta.dataset_meta)."""
    from mmengine.registry import DefaultScope
    from mmpretrain.registry import MODELS
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(cls_cfg.model)
    model.init_weights()
    with torch.no_grad():
        model.head.fc.weight.abs_()
    path = str(tmp_path / 'cls.pth')
    torch.save(dict(state_dict=model.state_dict(),
                    meta=dict(dataset_meta=dict(classes=['scratch', 'pit', 'stain']))), path)
    return path


def read_folder(folder):
    pngs = {f: cv2.imread(osp.join(folder, f), cv2.IMREAD_UNCHANGED) for f in sorted(os.listdir(folder))
            if f.endswith('.png')}
    with open(osp.join(folder, 'confidence.csv'), newline='') as f:
        rows = list(csv.DictReader(f))
    return pngs, rows


@pytest.mark.parametrize('rule,method', [('median_otsu', 'gradcam'), ('agreement_otsu', 'racam')])
def test_two_processes_write_the_same_files_as_one(repo_root, tiny_synthetic, cls_cfg, checkpoint, tmp_path, rule,
                                                   method):
    """With a split-level threshold rule, so the ranks' histograms (median_otsu) or agreement counts
    (agreement_otsu, RA-CAM's raw and refined maps) are gathered into the same thresholds."""
    single = str(tmp_path / 'single')
    cls_cfg.cam.threshold_rule = dict(type=rule, bg_ratio=0.5)
    cls_cfg.cam.method = method
    one = generate_pseudo_labels(cls_cfg, checkpoint, single, progress=False)
    assert one['written'] == one['images'] == 24 and one['world_size'] == 1
    two = str(tmp_path / 'two')
    options = [f'{k}={v}' for k, v in OPTIONS.items()] + [f'cam.threshold_rule.type={rule}', f'cam.method={method}']
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2', '--master_port=29533',
           osp.join(repo_root, 'tools', 'generate_pseudo_labels.py'), osp.join(repo_root, *CLS_CONFIG), checkpoint,
           '--out-dir', two, '--device', 'cpu', '--data-root', tiny_synthetic, '--launcher', 'pytorch',
           '--cfg-options', *options]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, OMP_NUM_THREADS='1'))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'wrote 24 of 24 pseudo-labels' in proc.stdout
    manifest = json.load(open(osp.join(two, 'manifest.json')))
    assert manifest['world_size'] == 2 and manifest['written'] == 24
    assert manifest['checkpoint_sha256'] == one['checkpoint_sha256']
    assert manifest['split_thresholds'] == one['split_thresholds']
    if rule == 'median_otsu':
        assert 0 < one['split_thresholds']['cams'][1] < 1
    else:
        assert one['split_thresholds']['agreement_iou']['pit'] > 0, 'the raw and refined maps were compared'
    pngs_one, rows_one = read_folder(single)
    pngs_two, rows_two = read_folder(two)
    assert pngs_one.keys() == pngs_two.keys() and len(pngs_one) == 24
    for name in pngs_one:
        assert np.array_equal(pngs_one[name], pngs_two[name]), name
    assert [r['image'] for r in rows_one] == [r['image'] for r in rows_two]
    for a, b in zip(rows_one, rows_two):
        assert a['classes'] == b['classes'] and abs(float(a['confidence']) - float(b['confidence'])) < 1e-3
    assert not osp.exists(osp.join(two, '.parts')), 'per-rank CSVs are merged and removed'


def test_resume_after_interruption(cls_cfg, checkpoint, tmp_path, monkeypatch):
    reference = str(tmp_path / 'ref')
    generate_pseudo_labels(cls_cfg, checkpoint, reference, progress=False)
    out = str(tmp_path / 'out')
    import mmwsss.apis.pseudo_label_generation as gen
    calls = {'n': 0}
    original = gen.cams_to_pseudo_labels

    def dying(*args, **kwargs):
        calls['n'] += 1
        if calls['n'] > 12:
            raise KeyboardInterrupt('simulated kill')
        return original(*args, **kwargs)

    monkeypatch.setattr(gen, 'cams_to_pseudo_labels', dying)
    with pytest.raises(KeyboardInterrupt):
        generate_pseudo_labels(cls_cfg, checkpoint, out, progress=False)
    import json
    assert json.load(open(osp.join(out, 'manifest.json')))['status'] == 'incomplete'  # written before any label
    assert len([f for f in os.listdir(out) if f.endswith('.png')]) == 12
    monkeypatch.setattr(gen, 'cams_to_pseudo_labels', original)
    again = generate_pseudo_labels(cls_cfg, checkpoint, out, progress=False)
    assert again['written'] == 12, 'only the unfinished images are redone'
    ref_pngs, ref_rows = read_folder(reference)
    pngs, rows = read_folder(out)
    assert all(np.array_equal(ref_pngs[n], pngs[n]) for n in ref_pngs) and len(pngs) == 24
    assert [r['image'] for r in rows] == [r['image'] for r in ref_rows]


def test_refuses_other_settings_and_other_classes(cls_cfg, checkpoint, tmp_path):
    out = str(tmp_path / 'out')
    generate_pseudo_labels(cls_cfg, checkpoint, out, progress=False, bg_thr=0.2, fg_thr=0.6)
    with pytest.raises(ValueError, match=r'other settings \(bg_thr differ'):
        generate_pseudo_labels(cls_cfg, checkpoint, out, progress=False, bg_thr=0.1, fg_thr=0.6)
    rewritten = generate_pseudo_labels(cls_cfg, checkpoint, out, progress=False, bg_thr=0.1, fg_thr=0.6,
                                       resume=False)
    assert rewritten['written'] == 24
    other = str(tmp_path / 'other.pth')
    state = torch.load(checkpoint, weights_only=False)
    state['meta']['dataset_meta']['classes'] = ['pit', 'stain', 'scratch']
    torch.save(state, other)
    with pytest.raises(ValueError, match=r"trained on classes \['pit', 'stain', 'scratch'\].*same class names"):
        generate_pseudo_labels(cls_cfg, other, str(tmp_path / 'x'), progress=False)


def test_corrupt_image_stops_with_its_name_or_is_skipped(cls_cfg, checkpoint, tiny_synthetic, tmp_path):
    data = str(tmp_path / 'data')
    shutil.copytree(tiny_synthetic, data)
    victim = sorted(os.listdir(osp.join(data, 'img_dir', 'train')))[3]
    open(osp.join(data, 'img_dir', 'train', victim), 'wb').write(b'garbage')
    cfg = prepare_config(cls_cfg.filename, data_root=data, cfg_options=OPTIONS)
    with pytest.raises(DatasetLayoutError, match=rf'cannot load .*{victim}.*--skip-bad'):
        generate_pseudo_labels(cfg, checkpoint, str(tmp_path / 'a'), progress=False)
    manifest = generate_pseudo_labels(cfg, checkpoint, str(tmp_path / 'b'), progress=False, skip_bad=True)
    assert manifest['written'] == 23 and [osp.basename(s['file']) for s in manifest['skipped']] == [victim]


def test_confidence_rule():
    scores = torch.tensor([[0.0, 0.4, 0.9], [1.0, 0.05, 0.55]])
    label = torch.tensor([[0, 255, 1], [1, 0, 1]])
    # defect pixels 0.9, 1.0, 0.55 -> margins (s - .5) / .5 = .8, 1, .1 -> mean .6333; 3 defect / 4 decided-or-ignored
    assert pseudo_label_confidence(scores, label, True, 0.3, 0.5) == pytest.approx(0.6333 * 3 / 4, abs=1e-4)
    assert pseudo_label_confidence(scores, torch.zeros_like(label), True, 0.3, 0.5) == 0.0
    assert pseudo_label_confidence(scores, torch.zeros_like(label), False, 0.3, 0.5) == 1.0


def test_review_queue_and_galleries(cls_cfg, checkpoint, tmp_path):
    from mmwsss.visualization import read_confidence, write_review
    labels = str(tmp_path / 'pl')
    generate_pseudo_labels(cls_cfg, checkpoint, labels, progress=False)
    rows = read_confidence(labels)
    assert len(rows) == 24 and all(0.0 <= r['confidence'] <= 1.0 for r in rows)
    assert all(r['confidence'] == 1.0 for r in rows if not r['classes'])
    out = write_review(labels, str(tmp_path / 'review'), num=2, row_height=40)
    with open(out['review_order']) as f:
        queue = list(csv.DictReader(f))
    conf = [float(r['confidence']) for r in queue]
    assert conf == sorted(conf) and len(queue) == sum(bool(r['classes']) for r in rows)
    for name, paths in out['galleries'].items():
        worst = cv2.imread(paths['worst'])
        assert worst.shape[0] == 40 * min(2, sum(name in r['classes'] for r in rows))
        members = sorted((r for r in rows if name in r['classes']), key=lambda r: (r['confidence'], r['image']))
        full = cv2.imread(osp.join(str(tmp_path / 'review'), 'overlays', members[0]['image']))
        assert full.shape[:2] == (64, 128), 'full-resolution overlay: image | blended label'
        assert out['mean_confidence'][name] == pytest.approx(np.mean([r['confidence'] for r in members]), abs=1e-4)


def test_confidence_check_by_hand(tmp_path):
    from mmwsss.visualization.pseudo_label_review import confidence_check
    labels, gts = tmp_path / 'pl', tmp_path / 'gt'
    labels.mkdir()
    gts.mkdir()
    rows = []
    for i, (covered, conf) in enumerate([(0, 0.1), (4, 0.5), (8, 0.9), (2, 0.3), (6, 0.7)]):
        gt = np.zeros((4, 8), np.uint8)
        gt[1:3, :] = 1  # 16 defect pixels
        label = np.zeros((4, 8), np.uint8)
        label[1:3, :covered] = 2
        label[0, 0] = 255  # ignore counts as background
        cv2.imwrite(str(gts / f'{i}.png'), gt)
        cv2.imwrite(str(labels / f'{i}.png'), label)
        rows.append(dict(image=f'{i}.png', confidence=conf))
    check = confidence_check(rows, str(labels), str(gts))
    # IoU = 2 * covered / 16; confidence orders the images exactly as their IoU
    assert check['spearman'] == pytest.approx(1.0)
    assert check['iou_least_confident_fifth'] == 0.0 and check['iou_most_confident_fifth'] == 1.0
    assert check['mean_iou'] == pytest.approx(np.mean([0, 0.5, 1, 0.25, 0.75]))


def test_eval_cams_reports_oracle_and_gt_free_rule(repo_root, tiny_synthetic, checkpoint, tmp_path, monkeypatch):
    """eval_cams.py scores the GT-swept (oracle) threshold, the per-image Otsu rule and the split-level rules on the
    same CAMs."""
    import json
    import runpy
    import sys
    out = str(tmp_path / 'eval')
    argv = ['eval_cams.py', osp.join(repo_root, *CLS_CONFIG), checkpoint, '--methods', 'gradcam', 'racam',
            '--out-dir', out,
            '--data-root', tiny_synthetic, '--defective-only', '--gallery', '1', '--batch-size', '4',
            '--thresholds', '0.1', '0.3', '0.5', '--rules', 'otsu', 'pooled_otsu', 'median_otsu', 'agreement_otsu',
            '--cfg-options'] + [f'{k}={v}' for k, v in OPTIONS.items()]
    monkeypatch.setattr(sys, 'argv', argv)
    runpy.run_path(osp.join(repo_root, 'tools', 'analysis_tools', 'eval_cams.py'), run_name='__main__')
    result = json.load(open(osp.join(out, 'cam_eval.json')))['methods']['gradcam']
    oracle = max(point['defect_miou'] for point in result['curve'])
    assert result['defect_miou'] == oracle and result['best_threshold'] in (0.1, 0.3, 0.5)
    otsu = result['gt_free']['otsu']
    assert 0.0 <= otsu['defect_miou'] <= 1.0
    assert otsu['ratio_to_oracle'] == pytest.approx(otsu['defect_miou'] / oracle, abs=1e-3)
    for rule in ('pooled_otsu', 'median_otsu'):
        split = result['gt_free'][rule]
        assert 0.0 < split['threshold'] <= 1.0 and 0.0 <= split['defect_miou'] <= 1.0
    floored = result['gt_free']['agreement_otsu']  # Grad-CAM has one map: nothing to agree with, floors 0 = Otsu
    assert set(floored['class_floors'].values()) == {0.0}
    assert floored['defect_miou'] == otsu['defect_miou'] and floored['defect_iou'] == otsu['defect_iou']
    from mmwsss.cam.threshold_rules import FLOOR_GRID
    racam = json.load(open(osp.join(out, 'cam_eval.json')))['methods']['racam']['gt_free']
    assert set(racam['agreement_otsu']['class_floors'].values()) <= set(FLOOR_GRID)  # raw vs refined maps
    assert 0.0 <= racam['agreement_otsu']['defect_miou'] <= 1.0
    table = open(osp.join(out, 'cam_eval.md')).read()
    assert 'otsu per image (no GT' in table and 'pooled_otsu one per split' in table


def test_benchmark_cams_spreads_classes_over_the_batch(repo_root, tmp_path, monkeypatch):
    """benchmark_cams.py times every method and the pytorch-grad-cam anchors on a batch of mixed classes."""
    import json
    import runpy
    out = str(tmp_path / 'bench.json')
    argv = ['benchmark_cams.py', osp.join(repo_root, *CLS_CONFIG), '--methods', 'gradcam', 'racam',
            '--batch-sizes', '3', '--repeats', '1', '--classes', '2', '--out', out,
            '--cfg-options'] + [f'{k}={v}' for k, v in OPTIONS.items() if k.startswith('model.')]
    monkeypatch.setattr(sys, 'argv', argv)
    runpy.run_path(osp.join(repo_root, 'tools', 'analysis_tools', 'benchmark_cams.py'), run_name='__main__')
    result = json.load(open(out))
    assert set(result) == {'gradcam', 'racam', 'pytorch-grad-cam GradCAM', 'pytorch-grad-cam LayerCAM'}
    assert all(r['3']['images_per_s'] > 0 and r['3']['seconds'] > 0 for r in result.values())


def test_benchmark_anchors_leave_no_hooks_on_the_model(repo_root, cls_cfg, checkpoint):
    """A pytorch-grad-cam anchor keeps hooks only during its own call: hooks left on the model copied every
    activation of the methods timed after it (the bug behind session (j)'s 1.68x)."""
    import argparse
    import runpy

    from mmengine.registry import DefaultScope
    tool = runpy.run_path(osp.join(repo_root, 'tools', 'analysis_tools', 'benchmark_cams.py'))
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = tool['build_model'](cls_cfg, checkpoint, 'cpu')

        def hooks():
            return sum(len(m._forward_hooks) + len(m._backward_hooks) for m in model.modules())

        before = hooks()
        args = argparse.Namespace(methods=['gradcam'], no_anchors=False)
        runners = tool['make_runners'](args, cls_cfg, model, cls_cfg.model.head.num_classes)
        assert hooks() == before, 'building the anchors left hooks on the model'
        x, mask = torch.rand(2, 3, 32, 32), torch.tensor([[True, False, False], [False, True, False]])
        for name in ('pytorch-grad-cam GradCAM', 'pytorch-grad-cam LayerCAM'):
            runners[name](x, mask)
            assert hooks() == before, f'{name} left hooks on the model'
        assert runners['gradcam'](x, mask).shape[0] == 2


def test_agreement_labels_keep_what_the_raw_and_the_refined_map_agree_on(cls_cfg, checkpoint, tmp_path):
    """refine.labels='agree' writes the refined map's labels where the raw map's labels (same Otsu rule, own
    thresholds) agree and 255 elsewhere: the same as two separate runs combined by hand."""
    folders = {}
    for name, refine in (('refined', dict()), ('raw', None), ('agree', dict(labels='agree'))):
        cfg = cls_cfg.copy()
        cfg.cam = dict(method='racam', threshold_rule=dict(type='otsu', bg_ratio=0.5), kwargs=dict(refine=refine))
        folders[name] = str(tmp_path / name)
        manifest = generate_pseudo_labels(cfg, checkpoint, folders[name], progress=False)
    assert manifest['settings']['refine'] == dict(labels='agree')
    (refined, _), (raw, _), (agree, rows) = (read_folder(folders[k]) for k in ('refined', 'raw', 'agree'))
    assert refined.keys() == raw.keys() == agree.keys() and len(agree) == 24
    disagree = 0
    for name, label in agree.items():
        expected = np.where(refined[name] == raw[name], refined[name], 255)
        assert np.array_equal(label, expected), name
        disagree += int((refined[name] != raw[name]).sum())
    assert disagree > 0, 'the refinement changed some labels, so the band is not empty'
    assert {r['image'] for r in rows} == set(agree)
