"""The single CAM path: CAMInferencer (class masks from data samples, maps from the classifier's head), the
shipped classifier configs (every one has the FGBP head + region-aware neck) and the import direction."""
import ast
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmpretrain.structures import DataSample

import mmwsss  # noqa: F401
from mmwsss.apis.cam_inferencer import CAMInferencer, cam_settings, class_mask_from_samples
from mmwsss.cam import build_cam

PKG = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'mmwsss')
LAYERS = ['backbone.layer1', 'backbone.layer2', 'backbone.layer4']


def _model(head_type='FGBPCAMHead'):
    from mmpretrain.registry import MODELS
    torch.manual_seed(0)
    backbone = dict(type='ResNet', depth=18, stem_channels=8, base_channels=8, strides=(1, 2, 2, 1), out_indices=(3, ))
    if head_type == 'FGBPCAMHead':
        neck = dict(type='RegionAwareWeightingNeck', prior='gate', gamma=0.5, detail_weight=1.0)
        head = dict(type='FGBPCAMHead', num_classes=3, in_channels=64, cam_cfg=dict(target_layers=LAYERS, q=0.5))
    else:
        neck = dict(type='GeneralizedMeanPooling')
        head = dict(type='MultiLabelLinearClsHead', num_classes=3, in_channels=64)
    cfg = dict(type='ImageClassifier', data_preprocessor=dict(num_classes=3), backbone=backbone, neck=neck, head=head)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(cfg)
    model.init_weights()
    return model.eval(), Config(dict(model=cfg, cam=dict(method='gradcam', target_layers=['backbone.layer4'])))


def _batch(labels):
    torch.manual_seed(1)
    return dict(inputs=[torch.randint(0, 255, (3, 32, 32), dtype=torch.uint8) for _ in labels],
                data_samples=[DataSample().set_gt_label(x) for x in labels])


def test_class_mask_from_samples_by_hand():
    samples = [DataSample().set_gt_label(x) for x in ([0, 2], [], [1])]
    mask = class_mask_from_samples(samples, 3)
    assert mask.tolist() == [[True, False, True], [False, False, False], [False, True, False]]
    assert class_mask_from_samples([], 3).shape == (0, 3)


def test_inferencer_draws_through_the_head():
    model, cfg = _model()
    batch = CAMInferencer(model, cfg, 'racam')(_batch([[0, 2], [], [1]]))
    assert batch.class_mask.tolist() == [[True, False, True], [False, False, False], [False, True, False]]
    assert batch.cams.shape == (3, 3, 32, 32) and torch.all(batch.cams[~batch.class_mask] == 0)
    # the head's own settings and the neck's fusion: the same maps as the head's predict_cams
    torch.testing.assert_close(batch.cams, model.head.predict_cams(model, batch.inputs, batch.class_mask))
    # a baseline by name gets the head's deepest layer
    grad = CAMInferencer(model, cfg, 'gradcam')
    assert grad.target_layers == ['backbone.layer4']
    ref = build_cam('gradcam', model, ['backbone.layer4'])(batch.inputs, batch.class_mask)
    torch.testing.assert_close(grad.maps(batch.inputs, batch.class_mask), ref)


def test_inferencer_on_a_classifier_without_the_head():
    model, cfg = _model('MultiLabelLinearClsHead')
    inferencer = CAMInferencer(model, cfg)  # cfg.cam.method
    assert inferencer.method == 'gradcam'
    batch = inferencer(_batch([[1], [0, 1]]))
    ref = build_cam('gradcam', model, ['backbone.layer4'])(batch.inputs, batch.class_mask)
    torch.testing.assert_close(batch.cams, ref)


def test_neck_option_change_is_an_ablation():
    model, cfg = _model()
    data = _batch([[0], [1]])
    before = CAMInferencer(model, cfg, 'racam')(data).cams
    model.neck.gamma = 0.0  # as --cfg-options model.neck.gamma=0 would build it
    after = CAMInferencer(model, cfg, 'racam')(data).cams
    assert not torch.allclose(before, after)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        from mmpretrain.registry import MODELS
        assert MODELS.build(dict(type='RegionAwareWeightingNeck', gamma=0.0)).options['gamma'] == 0.0


@pytest.mark.parametrize('config', sorted(glob.glob(osp.join(osp.dirname(PKG), 'configs', 'classifier', '*.py'))))
def test_every_shipped_classifier_has_the_head_and_neck(config):
    cfg = Config.fromfile(config)
    assert cfg.model.head.type == 'FGBPCAMHead', config
    assert cfg.model.neck.type == 'RegionAwareWeightingNeck', config
    method, layers, _ = cam_settings(cfg, 'racam')
    assert method == 'racam' and len(layers) >= 2
    # Grad-CAM's layer is the head's deepest RA-CAM layer
    assert cam_settings(cfg, 'gradcam')[1] == layers[-1:]


def _imports(path):
    tree = ast.parse(open(path).read())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            yield ('.' * node.level) + node.module
        elif isinstance(node, ast.Import):
            yield from (a.name for a in node.names)


@pytest.mark.parametrize('package,forbidden', [('cam', ('mmwsss.models', 'mmwsss.apis', '..models', '..apis')),
                                               ('models', ('mmwsss.apis', '..apis', '...apis'))])
def test_imports_go_one_way(package, forbidden):
    """apis -> models -> cam: the CAM library needs nothing from the models, the models nothing from the APIs."""
    for path in glob.glob(osp.join(PKG, package, '**', '*.py'), recursive=True):
        bad = [m for m in _imports(path) if m.startswith(forbidden)]
        assert not bad, f'{path} imports {bad}'
