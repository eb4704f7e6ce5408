"""Config handling shared by ``tools/train.py``, ``tools/test.py`` and ``tools/run_pipeline.py``."""
import copy
import logging
import os.path as osp
from typing import Any, Optional, Sequence

from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.runner import Runner

from mmwsss.engine.optimizers.cpu_amp_optim_wrapper import cpu_has_native_bf16
from mmwsss.utils import check_cfg_options


def enable_amp(cfg: Config) -> None:
    """mmseg's ``--amp``: mixed-precision training on whatever the run has.

    With a GPU (CUDA / NPU / MLU / MUSA): mmengine's ``AmpOptimWrapper`` (fp16 autocast, dynamic loss
    scaling). Without one: :class:`~mmwsss.engine.CPUAmpOptimWrapper` (bf16 autocast on the CPU, no loss
    scaling needed), since mmengine's wrapper refuses to build there; on a CPU without native bf16
    (:func:`~mmwsss.engine.optimizers.cpu_amp_optim_wrapper.cpu_has_native_bf16`) training stays fp32, with a warning.
    """
    from mmengine.device import get_device
    wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
    if wrapper in ('AmpOptimWrapper', 'CPUAmpOptimWrapper'):
        print_log('AMP training is already enabled in your config.', logger='current', level=logging.WARNING)
        return
    if wrapper != 'OptimWrapper':
        raise ValueError(f'--amp needs optim_wrapper.type OptimWrapper, got {wrapper}')
    if get_device() == 'cpu':
        if not cpu_has_native_bf16():
            print_log('--amp: this CPU has no native bf16 (AVX-512 BF16 / AMX), where bf16 autocast is slower than '
                      'fp32: training stays fp32', logger='current', level=logging.WARNING)
            return
        cfg.optim_wrapper.type = 'CPUAmpOptimWrapper'
        cfg.optim_wrapper.dtype = 'bfloat16'
    else:
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
                   data_root: Optional[str] = None,
                   channels_last: bool = False) -> Config:
    """Load a config and apply the mmseg-style command-line overrides (``channels_last``: train, validate and test NHWC,
    :class:`~mmwsss.engine.ChannelsLastHook`).

    ``work_dir`` priority: argument > config > ``./work_dirs/<config name>``.
    """
    if not osp.isfile(config):
        raise FileNotFoundError(f'config file not found: {config}')
    cfg = Config.fromfile(config)
    cfg.launcher = launcher
    if cfg_options:
        check_cfg_options(cfg._cfg_dict, cfg_options, config)
        cfg.merge_from_dict(cfg_options)
    if data_root is not None:
        set_data_root(cfg._cfg_dict, data_root)
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(config))[0])
    if amp:
        enable_amp(cfg)
    if channels_last:
        cfg.custom_hooks = list(cfg.get('custom_hooks', [])) + [dict(type='ChannelsLastHook')]
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


# the views of flip_tta_pipeline: the image itself (first: its metainfo and GT are the merged sample's), mirrored
# left-right, mirrored top-bottom
TTA_FLIPS = (dict(type='RandomFlip', prob=0.0, direction='horizontal'),
             dict(type='RandomFlip', prob=1.0, direction='horizontal'),
             dict(type='RandomFlip', prob=1.0, direction='vertical'))


def flip_tta_pipeline(pipeline: list, scales: Sequence[float] = (1.0, ), flips: bool = True) -> list:
    """A test pipeline -> its test-time-augmented form: mmcv ``TestTimeAug`` with the views :data:`TTA_FLIPS`
    (times the rescalings by ``scales`` of the test size, aspect ratio kept, when other than ``(1.0, )``) after the
    steps that size the image (loading, resizing) and before the mask loading and packing, so every view carries
    the GT mask in the image's own frame (mmseg's tta_pipeline layout). The first view is the first scale's
    unflipped image. ``flips=False`` keeps that view alone (one view per scale: the layout, without the mirrors)."""
    scales = [float(s) for s in scales]
    if not scales or min(scales) <= 0:
        raise ValueError(f'TTA scales must be positive numbers, got {scales}')
    late = ('LoadAnnotations', 'PackSegInputs')
    split = next((i for i, step in enumerate(pipeline) if step.get('type') in late), len(pipeline))
    types = [step.get('type') for step in pipeline]
    if split == 0 or types[0] != 'LoadImageFromFile':
        raise ValueError(f'--tta needs a test pipeline that starts with LoadImageFromFile, got {types}')
    if scales != [1.0] and any('Resize' in str(t) for t in types[split:]):
        raise ValueError(f'--tta-scales: the test pipeline {types} resizes after loading the masks, which would undo '
                         'the rescaled views; resize before LoadAnnotations')
    pipeline = copy.deepcopy(list(pipeline))
    views = [[dict(step) for step in (TTA_FLIPS if flips else TTA_FLIPS[:1])]]
    if scales != [1.0]:
        views.insert(0, [dict(type='Resize', scale_factor=s, keep_ratio=True) for s in scales])
    alternatives = [[step] for step in pipeline[1:split]] + views + [[step] for step in pipeline[split:]]
    return [pipeline[0], dict(type='TestTimeAug', transforms=alternatives)]


def tta_config(cfg: Config, scales: Optional[Sequence[float]] = (1.0, ), gate: Optional[dict] = None) -> Config:
    """mmseg's ``--tta`` on a copy of a segmenter config: the test split through :func:`flip_tta_pipeline` (or the
    config's own ``tta_pipeline`` when ``scales`` is left at ``(1.0, )``), the model wrapped by the config's
    ``tta_model`` (:class:`~mmwsss.models.FlipTTAModel` in ``configs/_base_/seg_runtime.py``). ``scales=None``:
    no augmentation (one view), for ``gate`` alone; ``gate``: the classifier gate's options
    (``dict(config=..., checkpoint=...)``, :class:`~mmwsss.models.ClassifierGate`)."""
    if scales is None and gate is None:
        raise ValueError('tta_config needs TTA scales, a class gate or both')
    if cfg.get('tta_model') is None:
        raise ValueError('--tta / --class-gate work with segmenter configs: this config has no tta_model (segmenter '
                         "configs inherit tta_model = dict(type='FlipTTAModel') from configs/_base_/seg_runtime.py)")
    cfg = copy.deepcopy(cfg)
    dataset = cfg.test_dataloader.dataset
    if 'pipeline' not in dataset:
        raise ValueError(f"--tta: the test dataset ({dataset.get('type')}) has no pipeline of its own; set "
                         'tta_pipeline in the config')
    own = cfg.get('tta_pipeline') if scales is not None and tuple(scales) == (1.0, ) else None
    dataset.pipeline = own or flip_tta_pipeline(dataset.pipeline, scales or (1.0, ), flips=scales is not None)
    cfg.tta_model.module = cfg.model
    if gate is not None:
        cfg.tta_model.gate = dict(gate)
    cfg.model = cfg.tta_model
    return cfg


# mmseg PackSegInputs' default meta keys, plus the image-level classes ImageLevelMetric reads
IMAGE_LEVEL_META_KEYS = ('img_path', 'seg_map_path', 'ori_shape', 'img_shape', 'pad_shape', 'scale_factor', 'flip',
                         'flip_direction', 'reduce_zero_label', 'image_labels')


def without_masks(pipeline: list) -> list:
    """A test pipeline that loads no mask and packs the image-level classes."""
    out = []
    for step in pipeline:
        if step.get('type') == 'LoadAnnotations':
            continue
        if step.get('type') == 'PackSegInputs':
            step = dict(step, meta_keys=IMAGE_LEVEL_META_KEYS)
        out.append(step)
    return out


def configure_evaluation(cfg: Config, val_masks: bool, test_masks: bool, min_area: int = 1) -> Config:
    """Adapt a segmenter config to the masks a data set has (in place; returns ``cfg``).

    The test split is always scored image by image against its OK / NG labels (:class:`ImageLevelMetric`); with
    masks, also pixel by pixel (the config's own evaluator, and :class:`PixelLevelMetric`: AUROC, AUPRO).
    Without val masks there is no validation during training (mmengine needs val loader, loop and evaluator
    all set or all ``None``).
    """
    if not val_masks:
        cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
        hooks = cfg.get('default_hooks', {})
        if hooks.get('checkpoint', {}).get('save_best'):
            hooks['checkpoint'].pop('save_best')
            hooks['checkpoint'].pop('rule', None)
    dataset = cfg.test_dataloader.dataset
    dataset.pipeline = without_masks(dataset.pipeline) if not test_masks else [
        dict(s, meta_keys=IMAGE_LEVEL_META_KEYS) if s.get('type') == 'PackSegInputs' else s for s in dataset.pipeline]
    image_metric = dict(type='ImageLevelMetric', min_area=min_area)
    evaluators = cfg.test_evaluator if isinstance(cfg.test_evaluator, list) else [cfg.test_evaluator]
    if test_masks and not any(e.get('type') == 'PixelLevelMetric' for e in evaluators):
        evaluators = evaluators + [dict(type='PixelLevelMetric')]
    cfg.test_evaluator = (evaluators if test_masks else []) + [image_metric]
    return cfg
