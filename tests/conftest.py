import os.path as osp

import pytest

import mmwsss  # noqa: F401  (shims + registration before any test imports mmseg)

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
MTD_ROOT = osp.join(osp.dirname(REPO), 'shared', 'datasets', 'MTD')


@pytest.fixture(autouse=True)
def _restore_default_scope():
    """A runner (tools/test.py run in-process) makes its default scope the current one for the whole process; a
    later test that builds from mmpretrain's registry would then resolve in mmseg's. Each test gets the scopes it
    started with back."""
    from mmengine.registry import DefaultScope
    before = dict(DefaultScope._instance_dict)
    yield
    DefaultScope._instance_dict.clear()
    DefaultScope._instance_dict.update(before)


@pytest.fixture(scope='session')
def repo_root():
    return REPO


@pytest.fixture(scope='session')
def tiny_synthetic(tmp_path_factory):
    """A tiny synthetic dataset (64 px) in the mmwsss layout, made once per session."""
    from mmwsss.datasets.synthetic_defects import SyntheticSpec, write_synthetic_dataset
    root = str(tmp_path_factory.mktemp('synthetic'))
    spec = SyntheticSpec(size=64, num_train=24, num_val=8, num_test=8, seed=3)
    write_synthetic_dataset(root, spec)
    return root
