"""Toy-size end-to-end run of tools/run_pipeline.py's machinery: classifier -> CAMs -> segmenter -> report."""
import glob
import json
import os
import os.path as osp
import shutil
import warnings

import cv2
import numpy as np
import pytest
from mmengine.config import Config

from mmwsss.apis.report import write_results
from mmwsss.apis.wsss_pipeline import STAGES, WSSSPipeline
from mmwsss.datasets.layout import read_image_labels

LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def small_loaders(batch_size, extra=()):
    opts = {}
    for loader in LOADERS + tuple(extra):
        opts[f'{loader}.num_workers'] = 0
        opts[f'{loader}.persistent_workers'] = False
        opts[f'{loader}.batch_size'] = batch_size
    return opts


@pytest.fixture
def toy_pipeline_cfg(repo_root, tiny_synthetic, tmp_path):
    root = str(tmp_path / 'data')
    shutil.copytree(tiny_synthetic, root)
    cfg = Config.fromfile(osp.join(repo_root, 'configs', 'wsss', 'gradcam_r18_deeplabv3plus_synthetic.py'))
    cfg.data_root = root
    cfg.classifier.cfg_options = dict(
        small_loaders(8, extra=('cam_dataloader', )), **{
            'train_cfg.max_epochs': 2, 'train_cfg.val_interval': 2,
            'model.backbone.base_channels': 8, 'model.backbone.stem_channels': 8, 'model.head.in_channels': 64})
    cfg.segmenter.cfg_options = dict(
        small_loaders(2), **{'train_cfg.max_iters': 3, 'train_cfg.val_interval': 3,
                             'default_hooks.checkpoint.interval': 3,
                             'param_scheduler': [dict(type='PolyLR', power=0.9, begin=0, end=3, by_epoch=False)]})
    cfg.refinement = dict(rounds=2, iters_per_round=2, mode='average', conf_thr=0.5, batch_size=4)
    cfg.fully_supervised = dict(config='../segmenter/deeplabv3plus_r18-d16_1xb8-400_synthetic-128x128.py',
                                cfg_options=cfg.segmenter.cfg_options)
    cfg.report = dict(num_overlays=2)
    return cfg


def test_toy_pipeline_end_to_end_and_resume(toy_pipeline_cfg, tmp_path):
    work_dir = str(tmp_path / 'work')
    toy_pipeline_cfg.cam.compare = [dict(method='layercam', bg_thr=0.2, fg_thr=0.35)]  # scored, not trained on
    toy_pipeline_cfg.segmenter.class_gate = True  # the default for the weak segmenter, set here to be explicit
    toy_pipeline_cfg.cam.contrast_prior = dict(max_area=1.0, kernel=5, min_peak=0.0)  # every class narrowed
    pipeline = WSSSPipeline(toy_pipeline_cfg, work_dir)
    pipeline.run(log=lambda s: None)
    results = write_results(pipeline)
    manifest = json.load(open(osp.join(pipeline.pseudo_label_dir(), 'manifest.json')))
    assert results['pseudo_labels']['contrast_prior_classes'] == manifest['contrast_prior_classes']
    decided = manifest['contrast_prior_classes']
    assert decided and all(c['narrowed'] for c in decided.values())

    on_disk = json.load(open(osp.join(work_dir, 'results.json')))
    assert on_disk == json.loads(json.dumps(results))
    assert results['dataset'] == 'synthetic_defects' and results['cam_method'] == 'gradcam'
    assert 0.0 <= results['classifier']['accuracy'] <= 1.0
    for part in ('pseudo_labels', 'segmenter'):
        assert 0.0 <= results[part]['miou'] <= 1.0
        assert set(results[part]['defect_iou']) == {'scratch', 'pit', 'stain'}
    assert set(results['seconds']) == set(STAGES)
    # refinement rounds: round 0 = the CAM labels and their segmenter, then one entry per round
    assert [r['round'] for r in results['rounds']] == [0, 1, 2]
    assert results['rounds'][0]['segmenter'] == {k: v for k, v in results['segmenter'].items()
                                                 if k not in ('split', 'config', 'decision', 'class_gated')}
    gated = results['segmenter']['class_gated']
    assert 0.0 <= gated['miou'] <= 1.0 and set(gated['defect_iou']) == {'scratch', 'pit', 'stain'}
    assert gated['decision']['path'] == osp.join(work_dir, 'segmenter', 'decision_class_gated.json')
    gated_file = json.load(open(gated['decision']['path']))
    # the stage's own model: refinement rounds (run after it) are gated too, each with its own file
    assert gated_file['checkpoint'] == pipeline.state['stages']['segmenter']['result']['checkpoint']
    assert results['rounds'][0]['class_gated'] == gated
    for r in results['rounds'][1:]:
        path = osp.join(work_dir, 'refinement', f"decision_class_gated_round_{r['round']}.json")
        assert r['class_gated']['decision']['path'] == path and 0.0 <= r['class_gated']['miou'] <= 1.0
        assert json.load(open(path))['checkpoint'] == osp.join(work_dir, 'refinement', f"iter_{2 * r['round']}.pth")
    assert '| segmenter, round 2, class-gated | test |' in open(osp.join(work_dir, 'results.md')).read()
    gate = gated_file['class_gate']
    assert gate['checkpoint'].endswith('.pth') and gate['recall'] == 0.95  # recall-calibrated by default
    assert gate['mode'] == 'reweight'
    assert len(gate['floors']) == 3 and all(0.0 <= t <= 1.0 for t in gate['floors'])
    assert 'class_gated' not in results['fully_supervised']  # not asked for
    assert '| segmenter, class-gated by the classifier | test |' in open(osp.join(work_dir, 'results.md')).read()
    for r in results['rounds'][1:]:
        assert 0.0 <= r['pseudo_labels']['miou'] <= 1.0 and 0.0 <= r['segmenter']['miou'] <= 1.0
        assert osp.isfile(osp.join(work_dir, 'refined_labels', f"round_{r['round']}", 'manifest.json'))
    assert osp.isfile(osp.join(work_dir, 'refinement', 'iter_4.pth'))
    full = results['fully_supervised']
    assert 0.0 <= full['miou'] <= 1.0 and set(full['defect_iou']) == {'scratch', 'pit', 'stain'}
    masks = [cv2.imread(f, cv2.IMREAD_UNCHANGED) for f in
             glob.glob(osp.join(toy_pipeline_cfg.data_root, 'ann_dir', 'test', '*.png'))]
    regions = sum(cv2.connectedComponents((m != 0).astype(np.uint8), connectivity=8)[0] - 1 for m in masks)
    for part in (results['segmenter'], full):  # anomalib-style pixel scores beside the IoU
        pix = part['pixel_level']
        assert set(pix) == {'auroc', 'aupro', 'f1_max', 'defect_pixels', 'regions'}
        assert all(0.0 <= pix[k] <= 1.0 for k in ('auroc', 'aupro', 'f1_max'))
        assert pix['regions'] == regions > 0 and pix['defect_pixels'] == sum(int((m != 0).sum()) for m in masks)
    assert '| segmenter, pixel level | test | AUROC' in open(osp.join(work_dir, 'results.md')).read()
    page = open(osp.join(work_dir, 'results.html')).read()  # the report for people (browser: test_html_report)
    assert '<table id="results">' in page and 'ROC and PR curves' in page and 'Pseudo-label review queue' in page
    report = pipeline.state['stages']['report']['result']
    assert set(report['galleries']) == {'segmenter', 'fully_supervised'}
    assert set(report['galleries']['segmenter']) == {'scratch', 'pit', 'stain'}
    scores = json.load(open(report['test_scores']))
    assert len(scores['segmenter']) == 8 and all('iou' in r for r in scores['segmenter'])
    final = results['rounds'][-1]['segmenter']
    expected = round(final['defect_miou'] / full['defect_miou'], 4) if full['defect_miou'] else None
    assert results['ratio_to_fully_supervised'] == expected  # None when the bound scores 0 (no division)
    assert '| segmenter, round 2 | test |' in open(osp.join(work_dir, 'results.md')).read()
    assert '| segmenter | test |' in open(osp.join(work_dir, 'results.md')).read()
    compared = results['pseudo_labels']['compared']['layercam']
    assert 0.0 <= compared['miou'] <= 1.0 and set(compared['defect_iou']) == {'scratch', 'pit', 'stain'}
    assert json.load(open(osp.join(work_dir, 'pseudo_labels_compared', 'layercam', 'manifest.json')))['method'] == \
        'layercam'
    assert '| pseudo-labels (layercam, compared: not trained on) | train |' in open(osp.join(work_dir,
                                                                                         'results.md')).read()
    assert len(results['overlays']) == 2
    # both visualizer backends of the runtime configs wrote: local scalars and TensorBoard event files
    for stage in ('classifier', 'segmenter'):
        assert glob.glob(osp.join(work_dir, stage, '*', 'vis_data', 'scalars.json')), stage
        assert glob.glob(osp.join(work_dir, stage, '*', 'vis_data', 'events.out.tfevents.*')), stage
    # pseudo-labels come with their per-image confidence (review queue)
    import csv
    with open(osp.join(pipeline.pseudo_label_dir(), 'confidence.csv')) as f:
        assert len(list(csv.DictReader(f))) == 24
    row = cv2.imread(results['overlays'][0])
    from mmwsss.visualization.panels import TITLE_HEIGHT
    size = 64  # image | GT | CAM | pseudo-label | prediction, each under its title, a legend below
    assert row.shape[1] == 5 * size and row.shape[0] > TITLE_HEIGHT + size
    assert (row[:TITLE_HEIGHT] < 128).any() and (row[TITLE_HEIGHT + size:] < 128).any()  # title and legend text

    # pseudo-label rules on the real output: negatives all background, only the image's classes or 255
    pl_dir = pipeline.pseudo_label_dir()
    for name, labels in read_image_labels(osp.join(toy_pipeline_cfg.data_root, 'image_labels', 'train.txt')):
        values = set(np.unique(cv2.imread(osp.join(pl_dir, name[:-4] + '.png'), cv2.IMREAD_UNCHANGED)).tolist())
        assert values <= {0, 255} | set(labels), (name, values, labels)
        if not labels:
            assert values == {0}
    manifest = json.load(open(osp.join(pl_dir, 'manifest.json')))
    assert manifest['method'] == 'gradcam' and manifest['images'] == 24

    # resume: every stage but the (cheap) report is skipped, nothing is recomputed
    mtime = os.path.getmtime(osp.join(pl_dir, 'manifest.json'))
    logs = []
    again = WSSSPipeline(toy_pipeline_cfg, work_dir)
    again.run(log=logs.append)
    assert logs[:-1] == [f'[mmwsss] stage {s}: done before, skipped (resume)' for s in STAGES[:-1]]
    assert logs[-1] == '[mmwsss] stage report: running'
    assert os.path.getmtime(osp.join(pl_dir, 'manifest.json')) == mtime

    # trained models reused in a new work dir (segmenter.checkpoint): labels drawn again, the segmenter tested
    # (and gated), not trained; the same checkpoint on the same split scores the same
    import copy
    reuse = copy.deepcopy(toy_pipeline_cfg)
    reuse.classifier.checkpoint = pipeline.state['stages']['classifier']['result']['checkpoint']
    reuse.segmenter.checkpoint = pipeline.state['stages']['segmenter']['result']['checkpoint']
    reused = WSSSPipeline(reuse, str(tmp_path / 'reuse'))
    reused.run(stages=['data', 'classifier', 'pseudo_labels', 'segmenter'], log=lambda s: None)
    seg = reused.state['stages']['segmenter']['result']
    assert seg['checkpoint'] == reuse.segmenter.checkpoint
    assert not glob.glob(str(tmp_path / 'reuse' / 'segmenter' / '*.pth')), 'reused, not trained'
    assert seg['summary']['miou'] == results['segmenter']['miou']
    assert seg['class_gated']['summary']['miou'] == results['segmenter']['class_gated']['miou']

    # a different config in the same work dir is refused
    toy_pipeline_cfg.cam.bg_thr = 0.1
    with pytest.raises(RuntimeError, match='different pipeline config'):
        WSSSPipeline(toy_pipeline_cfg, work_dir)


def test_changed_settings_refuse_only_finished_stages(toy_pipeline_cfg, tmp_path):
    import copy
    work_dir = str(tmp_path / 'work')
    pipeline = WSSSPipeline(toy_pipeline_cfg, work_dir)
    for stage in ('data', 'classifier', 'pseudo_labels', 'segmenter'):  # as if these had run
        pipeline.state['stages'][stage] = dict(done=True)
        pipeline.state['stage_fingerprints'][stage] = pipeline.stage_fingerprint(stage)
    pipeline._save_state()
    more_rounds = copy.deepcopy(toy_pipeline_cfg)
    more_rounds.refinement.rounds = 3  # refinement has not run: may change
    more_rounds.fully_supervised = dict(config=None)
    assert WSSSPipeline(more_rounds, work_dir).state['stages']['segmenter']['done']
    other_cam = copy.deepcopy(toy_pipeline_cfg)
    other_cam.cam.fg_thr = 0.9  # pseudo-labels (and the segmenter trained on them) were made with the old one
    with pytest.raises(RuntimeError, match=r"different pipeline config: finished stage\(s\) \['pseudo_labels', "
                                           r"'segmenter'\].*\['cam', 'segmenter'\]"):
        WSSSPipeline(other_cam, work_dir)
    other_data = copy.deepcopy(toy_pipeline_cfg)
    other_data.data_root = str(tmp_path / 'elsewhere')
    with pytest.raises(RuntimeError, match=r"\['data', 'classifier', 'pseudo_labels', 'segmenter'\]"):
        WSSSPipeline(other_data, work_dir)


def test_toy_pipeline_without_any_mask(toy_pipeline_cfg, tmp_path, capfd):
    """Weak supervision proper: no ann_dir at all. Every stage runs; what needs masks says so; the test split is
    scored image by image; fully_supervised is skipped (not done); refinement enabled later runs. Quiet: the
    console shows progress bars, the runners' logs go to their files."""
    shutil.rmtree(osp.join(toy_pipeline_cfg.data_root, 'ann_dir'))
    toy_pipeline_cfg.refinement.rounds = 0
    work_dir = str(tmp_path / 'work')
    pipeline = WSSSPipeline(toy_pipeline_cfg, work_dir, quiet=True)
    pipeline.run(log=lambda s: None)
    out, err = capfd.readouterr()
    assert 'mmengine - INFO' not in out and 'Epoch(train)' not in out
    assert 'segmenter: 100%' in err and 'classifier: 100%' in err
    logs = glob.glob(osp.join(work_dir, 'segmenter', '*', '*.log'))
    assert logs and any('Checkpoints will be saved to' in open(f).read() for f in logs)
    state = pipeline.state['stages']
    assert not state['fully_supervised']['done'] and 'no masks' in state['fully_supervised']['result']['skipped']
    assert not state['refinement']['done']
    assert state['data']['result']['test']['masks'] is False
    results = write_results(pipeline)
    assert results['pseudo_labels']['miou'] is None and results['pseudo_labels']['not_measured']
    seg = results['segmenter']
    assert seg['miou'] is None and seg['not_measured'] == 'no masks: not measured'
    img = seg['image_level']
    assert img['images'] == 8 and img['defective'] + img['defect_free'] == 8
    # the OK / NG rule was calibrated on val (F1-optimal score threshold) and stored beside the model
    decision = json.load(open(osp.join(work_dir, 'segmenter', 'decision.json')))
    assert seg['decision']['score_thr'] == decision['score_thr'] and 0.0 < decision['score_thr'] <= 1.0
    assert decision['calibrated_on'] == 'val' and decision['val']['images'] == 8
    assert decision['val'].get('best_f1_threshold', 0.5) == pytest.approx(decision['score_thr'], abs=1e-4)
    for key in ('auroc', 'ap', 'accuracy', 'ng_recall', 'ok_false_alarm_rate', 'false_alarm_at_recall_1'):
        assert 0.0 <= img[key] <= 1.0, key
    assert 'fully_supervised' not in results and seg['pixel_level'] == {}
    md = open(osp.join(work_dir, 'results.md')).read()
    assert 'no masks: not measured' in md and '| segmenter, image level | test | AUROC' in md
    assert len(results['overlays']) == 2

    # tomorrow's images: predict with the trained segmenter and its calibrated decision
    check_predict(work_dir, toy_pipeline_cfg.data_root, tmp_path, decision['score_thr'])

    # the README's workflow: enable refinement afterwards, run only it and the report
    toy_pipeline_cfg.refinement.rounds = 1
    later = WSSSPipeline(toy_pipeline_cfg, work_dir)
    later.run(['refinement', 'report'], log=lambda s: None)
    results = write_results(later)
    assert [r['round'] for r in results['rounds']] == [0, 1]
    assert results['rounds'][1]['pseudo_labels']['not_measured'] and results['rounds'][1]['segmenter']['image_level']


def test_stage_needs_its_inputs(toy_pipeline_cfg, tmp_path):
    with pytest.raises(RuntimeError, match=r"stage segmenter needs the finished stage\(s\) \['pseudo_labels'\]"):
        WSSSPipeline(toy_pipeline_cfg, str(tmp_path / 'w')).run(['segmenter'], log=lambda s: None)


def check_predict(work_dir, data_root, tmp_path, score_thr):
    import csv
    import runpy
    import sys
    from unittest import mock
    repo = osp.dirname(osp.dirname(osp.abspath(__file__)))
    seg_dir = osp.join(work_dir, 'segmenter')
    config = glob.glob(osp.join(seg_dir, '*.py'))[0]  # the runner's dump of the config it trained
    checkpoint = open(osp.join(seg_dir, 'last_checkpoint')).read().strip()
    inputs = str(tmp_path / 'new_images')
    shutil.copytree(osp.join(data_root, 'img_dir', 'test'), inputs)
    open(osp.join(inputs, 'broken.png'), 'wb').write(b'not an image')
    out = str(tmp_path / 'predict')
    argv = ['predict.py', config, checkpoint, inputs, '--out-dir', out, '--batch-size', '3']
    with mock.patch.object(sys, 'argv', argv):
        runpy.run_path(osp.join(repo, 'tools', 'predict.py'), run_name='__main__')
    lines = [json.loads(x) for x in open(osp.join(out, 'predictions.jsonl'))]
    assert len(lines) == 9 and [x['image'] for x in lines if 'error' in x] == [osp.join(inputs, 'broken.png')]
    for x in (x for x in lines if 'error' not in x):
        assert x['decision'] == ('NG' if x['defect_area'] >= 1 else 'OK')
        assert (x['score'] >= score_thr) == (x['decision'] == 'NG')  # min_area 1: the decision is the score rule
        mask = cv2.imread(osp.join(out, 'masks', osp.splitext(osp.basename(x['image']))[0] + '.png'),
                          cv2.IMREAD_UNCHANGED)
        assert int((mask != 0).sum()) == x['defect_area']
        assert sum(c['area_px'] for c in x['classes'].values()) == x['defect_area']
        for c in x['classes'].values():
            assert sum(r['area_px'] for r in c['regions']) == c['area_px']
    assert len(os.listdir(osp.join(out, 'overlays'))) == 8
    rows = list(csv.DictReader(open(osp.join(out, 'summary.csv'))))
    assert len(rows) == 9 and rows[-1]['error']
    with mock.patch.object(sys, 'argv', argv):  # resume: nothing is redone
        runpy.run_path(osp.join(repo, 'tools', 'predict.py'), run_name='__main__')
    assert len(open(osp.join(out, 'predictions.jsonl')).readlines()) == 9

    # with the pipeline's classifier too: its scores in every line, the decision of both models combined
    cls_dir = osp.join(work_dir, 'classifier')
    cls_config = glob.glob(osp.join(cls_dir, '*.py'))[0]
    cls_checkpoint = open(osp.join(cls_dir, 'last_checkpoint')).read().strip()
    out_cls = str(tmp_path / 'predict_cls')
    with mock.patch.object(sys, 'argv', ['predict.py', config, checkpoint, inputs, '--out-dir', out_cls, '--no-overlay',
                                         '--classifier', cls_config, cls_checkpoint, '--decision-by', 'both']):
        runpy.run_path(osp.join(repo, 'tools', 'predict.py'), run_name='__main__')
    for x in (json.loads(x) for x in open(osp.join(out_cls, 'predictions.jsonl'))):
        if 'error' in x:
            continue
        assert set(x['classifier_scores']) == {'scratch', 'pit', 'stain'}
        assert (x['classifier_decision'] == 'NG') == (max(x['classifier_scores'].values()) >= 0.5)
        both = x['classifier_decision'] == 'NG' and x['segmenter_decision'] == 'NG'
        assert x['decision'] == ('NG' if both else 'OK')
    assert 'classifier_decision' in open(osp.join(out_cls, 'summary.csv')).readline()

    # export to ONNX (the tool checks ONNX Runtime against PyTorch: logits to 1e-4, same argmax), then predict
    # with ONNX Runtime: the same decisions and areas, the calibrated decision read from the file's metadata
    onnx_file = str(tmp_path / 'segmenter.onnx')
    with mock.patch.object(sys, 'argv', ['pytorch2onnx.py', config, checkpoint, '--out', onnx_file, '--shape', '64',
                                         '64']):
        runpy.run_path(osp.join(repo, 'tools', 'deployment', 'pytorch2onnx.py'), run_name='__main__')
    out_onnx = str(tmp_path / 'predict_onnx')
    with mock.patch.object(sys, 'argv', ['predict.py', config, inputs, '--onnx', onnx_file, '--out-dir', out_onnx,
                                         '--no-overlay']):
        runpy.run_path(osp.join(repo, 'tools', 'predict.py'), run_name='__main__')
    by_image = {x['image']: x for x in lines}
    onnx_lines = [json.loads(x) for x in open(osp.join(out_onnx, 'predictions.jsonl'))]
    assert len(onnx_lines) == 9
    for x in onnx_lines:
        ref = by_image[x['image']]
        assert ('error' in x) == ('error' in ref)
        if 'error' not in x:
            assert (x['decision'], x['defect_area']) == (ref['decision'], ref['defect_area'])
            assert x['score'] == pytest.approx(ref['score'], abs=1e-3)


def test_missing_raw_data_names_data_preparation_src(repo_root, tmp_path, monkeypatch):
    """A shipped MTD pipeline config holds no machine path: with neither data_root nor the raw data there the data
    stage says which key to set."""
    from mmwsss.datasets.layout import DatasetLayoutError
    monkeypatch.chdir(tmp_path)
    cfg = Config.fromfile(osp.join(repo_root, 'configs', 'wsss', 'racam_lite0_deeplabv3plus_mtd.py'))
    assert cfg.data_preparation.src == 'data/raw/MTD'
    with pytest.raises(DatasetLayoutError, match=r'data_preparation\.src \(.*data/raw/MTD\) is not there.*'
                                                 r'--cfg-options data_preparation\.src=PATH'):
        WSSSPipeline(cfg, str(tmp_path / 'w')).stage_data()


def test_quiet_console_drops_the_libraries_notes_only(toy_pipeline_cfg, tmp_path):
    """Quiet: a UserWarning raised inside mmseg / mmengine (deprecation notes) is dropped, this package's shows."""
    pipeline = WSSSPipeline(toy_pipeline_cfg, str(tmp_path / 'work'), quiet=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        with pipeline._console():
            warnings.warn_explicit('build_loss would be deprecated', UserWarning, 'builder.py', 36,
                                   module='mmseg.models.builder')
            warnings.warn_explicit('instance created', UserWarning, 'manager.py', 113, module='mmengine.utils.manager')
            warnings.warn_explicit('ours', UserWarning, 'report.py', 1, module='mmwsss.apis.report')
    assert [str(w.message) for w in caught] == ['ours']


def test_segmenter_from_the_classifier_then_rounds_that_stop(toy_pipeline_cfg, tmp_path):
    from mmwsss.apis.classifier_backbone_init import BackboneMismatchError
    work_dir = str(tmp_path / 'work')
    toy_pipeline_cfg.segmenter.init_from_classifier = True  # R-18-V1c segmenter, half-width ResNet classifier
    pipeline = WSSSPipeline(toy_pipeline_cfg, work_dir)
    pipeline.run(['data', 'classifier', 'pseudo_labels'], log=lambda s: None)
    with pytest.raises(BackboneMismatchError,
                       match=r'^segmenter.init_from_classifier: backbone tensor stem.0.weight .* is missing'):
        pipeline.run(['segmenter'], log=lambda s: None)
    # the demo's segmenter has the classifier's architecture (here at the toy classifier's 8 base channels)
    toy_pipeline_cfg.segmenter.config = \
        '../segmenter/deeplabv3plus_r18-w32-d16_1xb8-1400_synthetic-pseudo-balanced-128x128.py'
    toy_pipeline_cfg.segmenter.cfg_options.update({
        'model.backbone.base_channels': 8, 'model.backbone.stem_channels': 8, 'model.decode_head.in_channels': 64,
        'model.decode_head.c1_in_channels': 8, 'model.auxiliary_head.in_channels': 32})
    pipeline = WSSSPipeline(toy_pipeline_cfg, work_dir)  # the segmenter stage has not run: its settings may change
    pipeline.run(['segmenter'], log=lambda s: None)
    classifier = pipeline.state['stages']['classifier']['result']['checkpoint']
    # ResNet-18 backbone tensors: stem conv + BN (1 + 5), 8 blocks x (2 convs + 2 BNs = 12), 3 downsamples x 6
    assert pipeline.state['stages']['segmenter']['result']['backbone_init'] == dict(checkpoint=classifier,
                                                                                   tensors=6 + 8 * 12 + 3 * 6)
    dumped = Config.fromfile(glob.glob(osp.join(work_dir, 'segmenter', '*.py'))[0])  # what the runner built
    assert dumped.model.backbone.init_cfg == dict(type='Pretrained', checkpoint=classifier, prefix='backbone.')

    # relabelling that stops once a round changes little: round 2 keeps training on round 1's labels
    toy_pipeline_cfg.refinement = dict(rounds=2, iters_per_round=2, mode='average', conf_thr=0.5, batch_size=4,
                                       min_change=1.0)  # every round changes < 100 % of the pixels
    pipeline = WSSSPipeline(toy_pipeline_cfg, work_dir)
    pipeline.run(['refinement'], log=lambda s: None)
    first, second = pipeline.state['stages']['refinement']['result']['rounds']
    assert first['relabelled'] and not second['relabelled']
    assert second['label_dir'] == first['label_dir'] == osp.join(work_dir, 'refined_labels', 'round_1')
    assert second['pseudo_labels'] == first['pseudo_labels'] and not osp.isdir(osp.join(work_dir, 'refined_labels',
                                                                                           'round_2'))
    assert second['checkpoint'] == osp.join(work_dir, 'refinement', 'iter_4.pth')  # trained on, tested
    assert 0.0 <= second['segmenter']['miou'] <= 1.0
