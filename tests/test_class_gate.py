"""Class gating of the segmenter by the image-level classifier: the rule by hand, FlipTTAModel with a gate through
the registries, tools/test.py --class-gate and DefectInferencer(class_gate=True)."""
import os.path as osp
import sys

import pytest
import torch

R18 = 'configs/segmenter/deeplabv3plus_r18-d16_1xb8-400_synthetic-pseudo-128x128.py'
CLS = 'configs/classifier/resnet18-w32_1xb16-25e_synthetic-128x128.py'


def test_gate_multiplies_defect_probabilities_by_the_classifier():
    """Two pixels, background + 2 classes; classifier 0.5 / 1.0: (.2, .5, .3) -> (.45, .25, .3) and
    (.1, .1, .8) -> (.15, .05, .8); the first pixel's argmax moves from class 1 to background."""
    from mmwsss.models import gate_probabilities
    probs = torch.tensor([[.2, .1], [.5, .1], [.3, .8]])[None, :, None, :]  # (1, 3, 1, 2)
    gated = gate_probabilities(probs, torch.tensor([[0.5, 1.0]]))
    torch.testing.assert_close(gated[0, :, 0], torch.tensor([[.45, .15], [.25, .05], [.3, .8]]))
    assert gated.argmax(1).tolist() == [[[0, 2]]] and probs.argmax(1).tolist() == [[[1, 2]]]
    # one output channel: gated by the most likely class
    torch.testing.assert_close(gate_probabilities(torch.full((1, 1, 2, 2), .6), torch.tensor([[.2, .5]])),
                               torch.full((1, 1, 2, 2), .3))
    with pytest.raises(ValueError, match='one pipeline run'):
        gate_probabilities(probs, torch.tensor([[0.5, 1.0, 1.0]]))
    # reweight: (.2, .5 x .5, .3) / .75 and (.1, .1 x .5, .8) / .95; the removed mass is shared, not all background
    reweighted = gate_probabilities(probs, torch.tensor([[0.5, 1.0]]), mode='reweight')
    torch.testing.assert_close(reweighted[0, :, 0], torch.tensor([[.2 / .75, .1 / .95], [.25 / .75, .05 / .95],
                                                                  [.3 / .75, .8 / .95]]))
    assert reweighted.argmax(1).tolist() == [[[2, 2]]]
    with pytest.raises(ValueError, match='mode must be one of'):
        gate_probabilities(probs, torch.tensor([[0.5, 1.0]]), mode='max')


@pytest.fixture(scope='module')
def gate_models(repo_root, tmp_path_factory):
    """A random synthetic segmenter and classifier (seeded), saved as checkpoints."""
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmpretrain.registry import MODELS as CLS_MODELS
    from mmseg.registry import MODELS

    from mmwsss.datasets.builtin_datasets import SYNTHETIC_CLASSES
    tmp = tmp_path_factory.mktemp('gate')
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmseg'):
        seg = MODELS.build(Config.fromfile(osp.join(repo_root, R18)).model)
    seg.init_weights()
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        cls = CLS_MODELS.build(Config.fromfile(osp.join(repo_root, CLS)).model)
    cls.init_weights()
    seg_ckpt, cls_ckpt = str(tmp / 'seg.pth'), str(tmp / 'cls.pth')
    torch.save(dict(state_dict=seg.state_dict(), meta=dict(dataset_meta=dict(classes=list(SYNTHETIC_CLASSES)))),
               seg_ckpt)
    torch.save(dict(state_dict=cls.state_dict(), meta=dict(dataset_meta=dict(classes=list(SYNTHETIC_CLASSES[1:])))),
               cls_ckpt)
    return seg_ckpt, cls_ckpt


def test_gated_prediction_is_the_segmenter_times_the_classifier(repo_root, tiny_synthetic, gate_models):
    """Through the registries and the real pipeline, one view: p' = gate(softmax(z(x)), q(x)), q from mmpretrain's
    own test pipeline (cv2 resize of the file) to within its rounding."""
    from mmengine.config import Config
    from mmengine.dataset import pseudo_collate
    from mmengine.registry import DefaultScope
    from mmengine.runner import load_checkpoint
    from mmseg.registry import DATASETS, MODELS
    from mmseg.structures import SegDataSample

    from mmwsss.apis import DefectInferencer, set_data_root, tta_config
    from mmwsss.models import gate_probabilities
    seg_ckpt, cls_ckpt = gate_models
    cfg = Config.fromfile(osp.join(repo_root, R18))
    set_data_root(cfg._cfg_dict, tiny_synthetic)
    cfg = tta_config(cfg, None, gate=dict(config=osp.join(repo_root, CLS), checkpoint=cls_ckpt))
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(cfg.model).eval()
        load_checkpoint(model.module, seg_ckpt, map_location='cpu')
        dataset = DATASETS.build(cfg.test_dataloader.dataset)
        batch = pseudo_collate([dataset[i] for i in range(2)])
        assert len(batch['inputs']) == 1  # one view: the gate alone
        with torch.no_grad():
            merged = model.test_step(batch)
            images = batch['inputs'][0]
            plain = [model.module.test_step(dict(inputs=[img], data_samples=[SegDataSample(metainfo=dict(
                img_shape=tuple(img.shape[-2:]), ori_shape=tuple(m.gt_sem_seg.data.shape[-2:])))]))[0]
                     for img, m in zip(images, merged)]
    scorer = DefectInferencer(osp.join(repo_root, R18), seg_ckpt, classifier=(osp.join(repo_root, CLS), cls_ckpt))
    q = scorer.classify_arrays([img.permute(1, 2, 0).numpy() for img in images])  # BGR HWC, as loaded
    for out, ref, qn in zip(merged, plain, q):
        expected = gate_probabilities(ref.seg_logits.data.softmax(0)[None], qn[None])[0]
        torch.testing.assert_close(out.seg_logits.data.exp(), expected.clamp(min=1e-6), atol=2e-2, rtol=0)
        assert torch.equal(out.pred_sem_seg.data[0], out.seg_logits.data.argmax(0))


def test_test_tool_with_class_gate(repo_root, tiny_synthetic, gate_models, tmp_path, monkeypatch):
    """tools/test.py --classifier C K --class-gate: one view per image, gated, metrics written; --class-gate alone
    and --classifier alone are refused in one line, as is --gate-recall without the gate or outside (0, 1]."""
    import json
    import runpy

    from mmwsss.models import ClassifierGate, FlipTTAModel
    seg_ckpt, cls_ckpt = gate_models
    views_seen, gated = [], []
    merge, gate = FlipTTAModel.merge_preds, ClassifierGate.forward
    monkeypatch.setattr(FlipTTAModel, 'merge_preds',
                        lambda self, lists: views_seen.extend(len(v) for v in lists) or merge(self, lists))
    monkeypatch.setattr(ClassifierGate, 'forward', lambda self, images: gated.append(len(images)) or gate(self, images))
    base = ['test.py', osp.join(repo_root, R18), seg_ckpt, '--data-root', tiny_synthetic]
    monkeypatch.setattr(sys, 'argv', base + ['--classifier', osp.join(repo_root, CLS), cls_ckpt, '--class-gate',
                                             '--work-dir', str(tmp_path / 'work')])
    runpy.run_path(osp.join(repo_root, 'tools', 'test.py'), run_name='__main__')
    scores = [json.loads(line) for f in (tmp_path / 'work').rglob('*.json') for line in f.read_text().splitlines()
              if 'mIoU' in line]
    assert scores and 0.0 <= scores[-1]['mIoU'] <= 100.0
    assert views_seen == [1] * 8 and sum(gated) == 8  # the 8 test images of the tiny set, each gated once
    for extra in (['--class-gate'], ['--classifier', osp.join(repo_root, CLS), cls_ckpt],
                  ['--classifier', osp.join(repo_root, CLS), cls_ckpt, '--gate-recall', '0.9'],
                  ['--classifier', osp.join(repo_root, CLS), cls_ckpt, '--class-gate', '--gate-recall', '1.5']):
        monkeypatch.setattr(sys, 'argv', base + extra)
        with pytest.raises(SystemExit):
            runpy.run_path(osp.join(repo_root, 'tools', 'test.py'), run_name='__main__')


def test_inferencer_class_gate(repo_root, gate_models, monkeypatch):
    """DefectInferencer(class_gate=True): classifier scores 1 leave the prediction as it is; scores 0 leave no
    defect pixel, so the image is OK; a gate without a classifier is refused."""
    import numpy as np

    from mmwsss.apis import DefectInferencer
    seg_ckpt, cls_ckpt = gate_models
    seg_cfg, cls = osp.join(repo_root, R18), (osp.join(repo_root, CLS), cls_ckpt)
    plain = DefectInferencer(seg_cfg, seg_ckpt, decision=dict(score_thr=0.1, min_area=1))
    gated = DefectInferencer(seg_cfg, seg_ckpt, decision=dict(score_thr=0.1, min_area=1), classifier=cls,
                             class_gate=True)
    image = np.random.default_rng(0).integers(0, 256, (40, 56, 3), dtype=np.uint8)
    ref, = plain.predict_arrays([image])
    monkeypatch.setattr(gated, 'classify_arrays', lambda images: torch.ones(len(images), 3))
    same, = gated.predict_arrays([image])
    assert np.array_equal(same['mask'], ref['mask']) and ref['mask'].any()
    monkeypatch.setattr(gated, 'classify_arrays', lambda images: torch.zeros(len(images), 3))
    none, = gated.predict_arrays([image])
    assert not none['mask'].any() and none['decision'] == 'OK'
    with pytest.raises(ValueError, match='class_gate needs a classifier'):
        DefectInferencer(seg_cfg, seg_ckpt, class_gate=True)


def test_recall_floors_and_calibrated_scores_by_hand():
    """Class 0 held by three images scoring .2 / .6 / .8: recall 0.5 -> the median .6, recall 1 -> the lowest .2;
    class 1 held by none -> 0 (not gated). Calibrated: .3 / .6 -> .5, .9 / .6 -> 1 (capped), any / 0 -> 1."""
    from mmwsss.models import calibrated_scores, recall_floors
    scores = torch.tensor([[.2, .9], [.6, .1], [.8, .3], [.05, .4]])
    labels = torch.tensor([[1, 0], [1, 0], [1, 0], [0, 0]], dtype=torch.bool)
    torch.testing.assert_close(recall_floors(scores, labels, 0.5), torch.tensor([.6, 0.]))
    torch.testing.assert_close(recall_floors(scores, labels, 1.0), torch.tensor([.2, 0.]))
    torch.testing.assert_close(recall_floors(scores, labels, 0.75), torch.tensor([.4, 0.]))  # between .2 and .6
    torch.testing.assert_close(calibrated_scores(torch.tensor([[.3, .01], [.9, .5]]), torch.tensor([.6, 0.])),
                               torch.tensor([[.5, 1.], [1., 1.]]))
    with pytest.raises(ValueError, match='recall must be in'):
        recall_floors(scores, labels, 0.0)


def test_gate_calibrates_on_the_classifier_val_split(repo_root, tiny_synthetic, gate_models):
    """ClassifierGate(recall=0.9): floors = recall_floors of its own plain probabilities on the classifier
    config's val images and their image labels; forward then returns the calibrated scores."""
    import mmcv
    from mmengine.config import Config

    from mmwsss.apis import set_data_root
    from mmwsss.datasets.layout import read_image_labels
    from mmwsss.models import ClassifierGate, calibrated_scores, recall_floors
    _, cls_ckpt = gate_models
    cfg = Config.fromfile(osp.join(repo_root, CLS))
    set_data_root(cfg._cfg_dict, tiny_synthetic)
    plain = ClassifierGate(cfg, cls_ckpt)
    entries = read_image_labels(osp.join(tiny_synthetic, 'image_labels', 'val.txt'))
    images = [torch.from_numpy(mmcv.imread(osp.join(tiny_synthetic, 'img_dir', 'val', name))).permute(2, 0, 1)
              for name, _ in entries]
    labels = torch.zeros(len(entries), 3, dtype=torch.bool)
    for i, (_, classes) in enumerate(entries):
        labels[i, [k - 1 for k in classes]] = True
    assert labels.any(0).all(), 'the tiny val split should hold every class'
    q = plain(images)
    expected = recall_floors(q, labels, 0.9)
    gate = ClassifierGate(cfg, cls_ckpt, recall=0.9)
    torch.testing.assert_close(gate.floors, expected)
    torch.testing.assert_close(gate(images), calibrated_scores(q, expected))
    assert ClassifierGate(cfg, cls_ckpt, floors=[.5, 0, 1]).floors.tolist() == [.5, 0, 1]


def test_inferencer_reads_the_gate_floors_of_its_decision_file(repo_root, gate_models, monkeypatch, tmp_path):
    """A decision file with ``class_gate.floors`` (the pipeline's decision_class_gated.json): scores .3 against
    floors .3 gate with 1, so the mask is the ungated one; the same scores without floors cap every defect
    probability at .3, below the rule's .5: no defect pixel."""
    import json

    import numpy as np

    from mmwsss.apis import DefectInferencer
    seg_ckpt, cls_ckpt = gate_models
    seg_cfg, cls = osp.join(repo_root, R18), (osp.join(repo_root, CLS), cls_ckpt)
    path = tmp_path / 'decision_class_gated.json'
    path.write_text(json.dumps(dict(score_thr=0.5, min_area=1, class_gate=dict(floors=[.3, .3, .3], recall=.95))))
    image = np.random.default_rng(0).integers(0, 256, (40, 56, 3), dtype=np.uint8)
    ref, = DefectInferencer(seg_cfg, seg_ckpt, decision=dict(score_thr=0.5, min_area=1)).predict_arrays([image])
    masks = []
    for decision in (str(path), dict(score_thr=0.5, min_area=1)):
        gated = DefectInferencer(seg_cfg, seg_ckpt, decision=decision, classifier=cls, class_gate=True)
        monkeypatch.setattr(gated, 'classify_arrays', lambda images: torch.full((len(images), 3), .3))
        masks.append(gated.predict_arrays([image])[0]['mask'])
    assert np.array_equal(masks[0], ref['mask']) and ref['mask'].any()
    assert not masks[1].any()
