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
