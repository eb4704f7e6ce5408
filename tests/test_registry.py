"""`import mmwsss` registers every component into the downstream registries."""
import pytest

import mmwsss  # noqa: F401


@pytest.mark.parametrize('registry,name', [
    ('mmseg.registry.DATASETS', 'DefectSegDataset'),
    ('mmseg.registry.DATASETS', 'SyntheticDefectDataset'),
    ('mmseg.registry.DATASETS', 'MTDDataset'),
    ('mmseg.registry.DATASETS', 'PseudoLabelDataset'),
    ('mmseg.registry.METRICS', 'DefectIoUMetric'),
    ('mmpretrain.registry.DATASETS', 'DefectClsDataset'),
    ('mmpretrain.registry.DATASETS', 'SyntheticDefectClsDataset'),
    ('mmpretrain.registry.DATASETS', 'MTDClsDataset'),
    ('mmpretrain.registry.METRICS', 'ExactMatchAccuracy'),
    ('mmpretrain.registry.MODELS', 'EfficientNetLite'),
    ('mmpretrain.registry.MODELS', 'FGBPCAMHead'),
    ('mmpretrain.registry.MODELS', 'RegionAwareWeightingNeck'),
    ('mmseg.registry.HOOKS', 'IterativeRefineHook'),
    ('mmseg.registry.MODELS', 'FlipTTAModel'),
    ('mmseg.registry.MODELS', 'LogitAdjustedEncoderDecoder'),
    ('mmwsss.registry.CAM_METHODS', 'gradcam'),
    ('mmwsss.registry.CAM_METHODS', 'racam'),
])
def test_registered(registry, name):
    import importlib
    module, attr = registry.rsplit('.', 1)
    reg = getattr(importlib.import_module(module), attr)
    assert reg.get(name) is not None, f'{name} missing from {registry}'


def test_every_cam_method_registered():
    from mmwsss.registry import CAM_METHODS
    expected = {'cam', 'gradcam', 'gradcampp', 'xgradcam', 'layercam', 'hirescam', 'scorecam', 'eigencam',
                'guided_gradcam', 'racam'}
    assert expected <= set(CAM_METHODS.module_dict)


def test_configs_parse_and_import_mmwsss(repo_root):
    import glob
    import os.path as osp

    from mmengine.config import Config
    files = [f for f in glob.glob(osp.join(repo_root, 'configs', '**', '*.py'), recursive=True)
             if '_base_' not in f]
    assert len(files) >= 7
    for f in files:
        cfg = Config.fromfile(f)
        assert cfg.custom_imports == dict(imports=['mmwsss'], allow_failed_imports=False), f


def test_two_hour_mtd_pipeline_trains_one_recipe_weak_and_full(repo_root):
    """The 2-hour MTD pipeline: 4 classifier epochs; the weak segmenter and the fully supervised bound are the same
    FPN small-defect recipe (model, crops, sampler, bf16) and differ only in their labels, schedule (2000 iterations;
    the bound 4000) and memory layout (the bound NHWC)."""
    import os.path as osp

    from mmengine.config import Config
    wsss = osp.join(repo_root, 'configs', 'wsss')
    pipe = Config.fromfile(osp.join(wsss, 'racam_lite0_fpn-dcrop128-balanced_mtd.py'))
    assert pipe.classifier.cfg_options == {'train_cfg.max_epochs': 4}
    assert pipe.segmenter.amp is True and pipe.fully_supervised.amp is True
    # NHWC for the bound only; the weak segmenter and the classifier keep NCHW (and the classifier fp32): results.md (r)
    assert pipe.fully_supervised.channels_last is True and not pipe.segmenter.get('channels_last')
    assert not pipe.classifier.get('amp') and not pipe.classifier.get('channels_last')
    assert pipe.cam.method == 'racam' and pipe.cam.threshold_rule == dict(type='otsu', bg_ratio=0.5)
    weak = Config.fromfile(osp.join(wsss, pipe.segmenter.config))
    full = Config.fromfile(osp.join(wsss, pipe.fully_supervised.config))
    assert weak.model.decode_head.type == full.model.decode_head.type == 'FPNHead'
    assert weak.train_cfg.max_iters == 2000 and full.train_cfg.max_iters == 4000  # the bound: results.md (r)
    assert weak.train_dataloader.sampler == full.train_dataloader.sampler
    assert weak.train_dataloader.sampler.type == 'ClassBalancedSampler'
    assert weak.train_dataloader.dataset.dataset.pipeline == full.train_dataloader.dataset.dataset.pipeline
    assert any(t['type'] == 'DefectCenteredCrop' for t in weak.train_dataloader.dataset.dataset.pipeline)
    assert weak.train_dataloader.dataset.pseudo_label_dir is not None
    assert full.train_dataloader.dataset.pseudo_label_dir is None


def _flat(node, prefix=''):
    """Nested dicts / lists -> {'a.b[0].c': leaf}."""
    if isinstance(node, dict):
        return {k: v for key, val in node.items() for k, v in _flat(val, f'{prefix}.{key}').items()}
    if isinstance(node, (list, tuple)) and any(isinstance(v, (dict, list, tuple)) for v in node):
        return {k: v for i, val in enumerate(node) for k, v in _flat(val, f'{prefix}[{i}]').items()}
    return {prefix: node}


def _differing_keys(a: dict, b: dict) -> set:
    """The flattened keys (see :func:`_flat`) where two config dicts differ."""
    flat_a, flat_b = _flat(a), _flat(b)
    return {k for k in set(flat_a) | set(flat_b) if flat_a.get(k) != flat_b.get(k)}


PUBLIC_SETS = [('dagm', 11, 'DAGMDataset'), ('ksdd2', 2, 'KSDD2Dataset'), ('neu-seg', 4, 'NEUSegDataset')]


def _check_public_segmenters(template, weak_path, full_path, num_classes, dataset_type):
    """The public set's weak segmenter equals ``template`` but for the data set's identity; its GT variant differs
    only in the labels."""
    from mmengine.config import Config
    weak_cfg = Config.fromfile(weak_path)
    weak = _flat(weak_cfg.to_dict())
    differ = _differing_keys(Config.fromfile(template).to_dict(), weak_cfg.to_dict())
    identity = {'.dataset_type', '.data_root', '.pseudo_label_dir', '.num_classes', '.model.decode_head.num_classes',
                '.model.auxiliary_head.num_classes', '.train_dataloader.dataset.pseudo_label_dir'}
    identity |= {f'.{split}_dataloader.dataset{inner}.{key}' for split in ('train', 'val', 'test')
                 for inner in ('', '.dataset') for key in ('type', 'data_root')}
    assert differ <= identity, sorted(differ - identity)
    assert weak_cfg.model.decode_head.num_classes == num_classes and weak_cfg.train_cfg.max_iters == 2000
    assert weak_cfg.test_dataloader.dataset.type == dataset_type
    assert weak_cfg.train_dataloader.dataset.dataset.type == dataset_type
    full = Config.fromfile(full_path)
    assert full.train_dataloader.dataset.pseudo_label_dir is None
    assert full.model.type == 'LogitAdjustedEncoderDecoder'  # exact masks: the logit adjustment
    full.train_dataloader.dataset.pseudo_label_dir = weak_cfg.train_dataloader.dataset.pseudo_label_dir
    full.model.type = weak_cfg.model.type
    assert _flat(full.to_dict()) == weak


@pytest.mark.parametrize('name, num_classes, dataset_type', PUBLIC_SETS)
def test_public_set_segmenters_are_the_folder_converter_recipe(repo_root, name, num_classes, dataset_type):
    """A public set's small-defect segmenter is the folder converter's lite0 template (the MTD pipeline's FPN recipe)
    with only the data set's identity changed, and its pipeline uses it for the weak and the GT-trained model."""
    import os.path as osp

    from mmengine.config import Config

    from mmwsss.apis.config_generation import TEMPLATES
    seg = osp.join(repo_root, 'configs', 'segmenter', 'fpn_efficientnet-lite0-d16_in1k-pre_1xb16-2k')
    weak, full = f'{seg}_{name}-pseudo-native-dcrop128-balanced.py', f'{seg}_{name}-native-dcrop128-balanced.py'
    _check_public_segmenters(osp.join(repo_root, 'configs', TEMPLATES['lite0']['segmenter']), weak, full, num_classes,
                             dataset_type)
    pipe = Config.fromfile(osp.join(repo_root, 'configs', 'wsss', f'racam_lite0_fpn-dcrop128-balanced_{name}.py'))
    assert osp.basename(pipe.segmenter.config) == osp.basename(weak) and pipe.segmenter.amp is True
    assert osp.basename(pipe.fully_supervised.config) == osp.basename(full)
    assert pipe.data_preparation.type == name.replace('-', '_') and pipe.cam.method == 'racam'


@pytest.mark.parametrize('name, num_classes, dataset_type', PUBLIC_SETS)
def test_public_set_256_segmenters_are_the_mtd_256_recipe(repo_root, name, num_classes, dataset_type):
    """The earlier DeepLabV3+ 256x256 configs of the public sets stay MTD's 256x256 weak recipe on their data."""
    import os.path as osp
    seg = osp.join(repo_root, 'configs', 'segmenter', 'deeplabv3plus_efficientnet-lite0-d16_in1k-pre_1xb8-2k')
    _check_public_segmenters(f'{seg}_mtd-pseudo-256x256.py', f'{seg}_{name}-pseudo-256x256.py',
                             f'{seg}_{name}-256x256.py', num_classes, dataset_type)


def test_mtd_pipeline_trains_the_folder_converter_recipe(repo_root):
    """The default MTD pipeline (which the generated pipelines inherit) trains the folder converter's weak segmenter,
    and its fully supervised bound is that segmenter on the GT masks; both in mixed precision."""
    import os.path as osp

    from mmengine.config import Config

    from mmwsss.apis.config_generation import TEMPLATES
    wsss = osp.join(repo_root, 'configs', 'wsss')
    pipe = Config.fromfile(osp.join(repo_root, 'configs', TEMPLATES['lite0']['pipeline']))
    assert osp.basename(TEMPLATES['lite0']['pipeline']) == 'racam_lite0_fpn-dcrop128-balanced_mtd.py'
    assert osp.normpath(osp.join(wsss, pipe.segmenter.config)) == osp.join(repo_root, 'configs',
                                                                           TEMPLATES['lite0']['segmenter'])
    assert pipe.segmenter.amp is True and pipe.fully_supervised.amp is True
    weak = Config.fromfile(osp.join(wsss, pipe.segmenter.config))
    full = Config.fromfile(osp.join(wsss, pipe.fully_supervised.config))
    assert full.train_dataloader.dataset.pseudo_label_dir is None and weak.train_cfg.max_iters == 2000
    assert full.model.type == 'LogitAdjustedEncoderDecoder' and weak.model.type == 'EncoderDecoder'
    # the same recipe; only the labels, the logit adjustment and the bound's longer schedule differ
    full.train_dataloader.dataset.pseudo_label_dir = weak.train_dataloader.dataset.pseudo_label_dir
    full.model.type = weak.model.type
    full.max_iters, full.train_cfg = weak.max_iters, weak.train_cfg
    assert _flat(full.to_dict()) == _flat(weak.to_dict())


def test_stride2_bound_predicts_at_stride_2_and_differs_only_in_the_decoder_input(repo_root):
    """The fpn-s2 option is the pipeline's bound with the stride-2 stage as a fifth FPN level: its decode head's
    logits are (N, C, H / 2, W / 2), and every other key of the config is the bound's."""
    import os.path as osp

    import torch
    from mmengine.config import Config
    from mmseg.registry import MODELS

    seg = osp.join(repo_root, 'configs', 'segmenter')
    name = 'efficientnet-lite0-d16_in1k-pre_1xb16-4k_mtd-native-dcrop128-balanced.py'
    base, s2 = Config.fromfile(osp.join(seg, f'fpn_{name}')), Config.fromfile(osp.join(seg, f'fpn-s2_{name}'))
    assert _differing_keys(base.to_dict(), s2.to_dict()) == {
        '.model.backbone.out_indices', '.model.neck.in_channels', '.model.neck.num_outs',
        '.model.decode_head.in_channels', '.model.decode_head.in_index', '.model.decode_head.feature_strides',
        '.model.auxiliary_head.in_index'}
    s2.model.backbone.pop('init_cfg', None)
    model = MODELS.build(s2.model).eval()
    torch.manual_seed(0)
    with torch.no_grad():
        logits = model.decode_head(model.extract_feat(torch.randn(1, 3, 64, 48)))
    assert logits.shape == (1, s2.num_classes, 32, 24)
