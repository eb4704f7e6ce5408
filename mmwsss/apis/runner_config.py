"""Config handling shared by ``tools/train.py``, ``tools/test.py`` and ``tools/run_pipeline.py``."""
import copy
import logging
import os.path as osp
from typing import Any, Optional

from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.runner import Runner


def enable_amp(cfg: Config) -> None:
    """Switch the config's optimizer wrapper to ``AmpOptimWrapper`` (mmseg's ``--amp`` semantics)."""
    wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
    if wrapper == 'AmpOptimWrapper':
        print_log('AMP training is already enabled in your config.', logger='current', level=logging.WARNING)
        return
    if wrapper != 'OptimWrapper':
        raise ValueError(f'--amp needs optim_wrapper.type OptimWrapper, got {wrapper}')
    cfg.optim_wrapper.type = 'AmpOptimWrapper'
    cfg.optim_wrapper.loss_scale = 'dynamic'


def set_data_root(cfg: Any, data_root: str) -> None:
    """Replace every ``data_root`` value in a (nested) config by ``data_root``, in place."""
    if isinstance(cfg, dict):
        for key, value in cfg.items():
            if key == 'data_root' and isinstance(value, str):
                cfg[key] = data_root
            else:
                set_data_root(value, data_root)
    elif isinstance(cfg, (list, tuple)):
        for item in cfg:
            set_data_root(item, data_root)


def prepare_config(config: str,
                   work_dir: Optional[str] = None,
                   cfg_options: Optional[dict] = None,
                   amp: bool = False,
                   resume: bool = False,
                   launcher: str = 'none',
                   data_root: Optional[str] = None) -> Config:
    """Load a config and apply the mmseg-style command-line overrides.

    ``work_dir`` priority: argument > config > ``./work_dirs/<config name>``.
    """
    if not osp.isfile(config):
        raise FileNotFoundError(f'config file not found: {config}')
    cfg = Config.fromfile(config)
    cfg.launcher = launcher
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if data_root is not None:
        set_data_root(cfg._cfg_dict, data_root)
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(config))[0])
    if amp:
        enable_amp(cfg)
    cfg.resume = resume
    return cfg


def build_runner(cfg: Config) -> Runner:
    if 'runner_type' in cfg:
        from mmengine.registry import RUNNERS
        return RUNNERS.build(cfg)
    return Runner.from_cfg(cfg)


def test_only_config(cfg: Config, checkpoint: str) -> Config:
    """A copy of ``cfg`` that only tests ``checkpoint``: nothing of the training side (e.g. a pseudo-label
    folder) is built or needed."""
    cfg = copy.deepcopy(cfg)
    cfg.load_from, cfg.resume = checkpoint, False
    for key in ('train_dataloader', 'train_cfg', 'optim_wrapper', 'param_scheduler'):
        cfg[key] = None
    cfg.custom_hooks = [h for h in cfg.get('custom_hooks', []) if h.get('type') != 'IterativeRefineHook']
    return cfg
