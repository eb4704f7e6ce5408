"""Start a segmenter's backbone from the pipeline's trained classifier (``segmenter.init_from_classifier``).

The classifier has already learned, from the image labels alone, what the defects of this data look like; a
segmenter whose backbone has the classifier's architecture can start from those weights instead of from
scratch or ImageNet. No mask is involved, so the weakly supervised path stays weakly supervised.

The check is strict: every tensor of the segmenter's backbone must be in the classifier checkpoint under
``backbone.`` with the same shape (strides and dilations may differ: they change no weight), else a
:class:`BackboneMismatchError` names the first differing tensor. mmengine's own ``Pretrained`` init would
only log missing keys and train a half-initialised model.
"""
from typing import Dict, Tuple

import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner.checkpoint import _load_checkpoint

PREFIX = 'backbone.'


class BackboneMismatchError(ValueError):
    """The segmenter's backbone does not have the classifier's architecture."""


def _backbone_shapes(backbone_cfg: dict) -> Dict[str, Tuple[int, ...]]:
    """Tensor name -> shape of a backbone built (randomly, no init) from its mmseg config."""
    from mmseg.registry import MODELS
    cfg = {k: v for k, v in backbone_cfg.items() if k not in ('init_cfg', 'pretrained')}
    with DefaultScope.overwrite_default_scope('mmseg'):
        backbone = MODELS.build(cfg)
    return {k: tuple(v.shape) for k, v in backbone.state_dict().items()}


def init_backbone_from_classifier(seg_cfg: Config, checkpoint: str, key: str = 'segmenter') -> Dict:
    """Point ``seg_cfg.model.backbone.init_cfg`` at the classifier ``checkpoint`` (prefix ``backbone.``),
    replacing any other initialisation (the classifier's weights include its own ImageNet start).

    Returns ``dict(checkpoint, tensors)`` for the stage result. Raises :class:`BackboneMismatchError` when
    a backbone tensor is missing from the checkpoint or has another shape (the message names ``key``, the
    pipeline-config section that asked for it).
    """
    state = _load_checkpoint(checkpoint, map_location='cpu')
    state = state.get('state_dict', state)
    classifier = {k[len(PREFIX):]: tuple(v.shape) for k, v in state.items()
                  if k.startswith(PREFIX) and isinstance(v, torch.Tensor)}
    segmenter = _backbone_shapes(seg_cfg.model.backbone)
    for name, shape in segmenter.items():
        if classifier.get(name) != shape:
            found = 'missing' if name not in classifier else f'shape {classifier[name]}'
            raise BackboneMismatchError(
                f'{key}.init_from_classifier: backbone tensor {name} {shape} is {found} in the classifier '
                f'checkpoint {checkpoint}; give the segmenter config the classifier\'s backbone '
                f'(type {seg_cfg.model.backbone.get("type")} here) or drop init_from_classifier')
    seg_cfg.model.backbone.init_cfg = dict(type='Pretrained', checkpoint=checkpoint, prefix=PREFIX)
    seg_cfg.model.pop('pretrained', None)
    return dict(checkpoint=checkpoint, tensors=len(segmenter))
