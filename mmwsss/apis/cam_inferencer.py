"""The one path every CAM of the project comes through: pseudo-labels, ``eval_cams.py``, ``benchmark_cams.py``
and the report's overlays.

A batch from a classifier's ``cam_dataloader`` (mmpretrain data samples with their image-level labels) goes
through the classifier's data preprocessor; the class mask ``(N, K)`` comes from the samples' labels in one
scatter; the maps come from the classifier's :class:`~mmwsss.models.FGBPCAMHead` (which owns the CAM method
and its FGBP settings; its neck owns the fusion), or, for a classifier with another head, from the method
the config names. One batched call per batch, no per-image loop.
"""
from typing import List, NamedTuple, Optional, Sequence, Tuple

import torch
from mmengine.config import Config
from torch import Tensor

from mmwsss.cam import build_cam
from mmwsss.cam.pixel_adaptive_refinement import RefinedCAM
from mmwsss.models.heads.fgbp_cam_head import FGBPCAMHead, head_cam_settings

DEFAULT_TARGET_LAYERS = ('backbone.layer4', )


def cam_settings(cfg: Config, name: str) -> Tuple[str, List[str], dict]:
    """Registered method, target layers and keyword arguments of a CAM setting for a classifier config.

    ``name`` is a registered method (``'gradcam'``) or a key of ``cfg.cam_presets``; a preset may name its
    method (``cam_presets.racam_q95 = dict(method='racam', q=0.95)``). Precedence, low to high: an
    ``FGBPCAMHead``'s ``cam_cfg`` (for its ``cam_method``; other methods get its deepest target layer),
    the preset, ``cfg.cam.kwargs``; the target layers default to ``cfg.cam.target_layers``.
    """
    preset = dict(cfg.get('cam_presets', {}).get(name, {}))
    method = preset.pop('method', name)
    settings = {}
    head = cfg.get('model', {}).get('head', {})
    if head.get('type') in ('FGBPCAMHead', 'mmpretrain.FGBPCAMHead'):
        settings = head_cam_settings(head.get('cam_method', 'racam'), head.get('cam_cfg'), method)
    settings.update(preset)
    settings.update(cfg.get('cam', {}).get('kwargs', {}))
    layers = settings.pop('target_layers', cfg.get('cam', {}).get('target_layers', list(DEFAULT_TARGET_LAYERS)))
    return method, list(layers), settings


def class_mask_from_samples(samples: Sequence, num_classes: int, device=None) -> Tensor:
    """``(N, K)`` bool: True where class k is in sample n's image-level label (``gt_label`` indices)."""
    mask = torch.zeros(len(samples), num_classes, dtype=torch.bool, device=device)
    if not samples:
        return mask
    labels = [s.gt_label.to(device).long().flatten() for s in samples]
    counts = torch.tensor([len(x) for x in labels], dtype=torch.long, device=device)
    rows = torch.repeat_interleave(torch.arange(len(samples), device=device), counts)
    mask[rows, torch.cat(labels)] = True
    return mask


class CAMBatch(NamedTuple):
    """One batch's CAMs: ``inputs`` (N, 3, H, W) preprocessed, ``class_mask`` (N, K) bool, ``cams``
    (N, K, H, W) in [0, 1] (zero where the mask is False), ``data_samples`` (the preprocessor's), ``raw_cams``
    (N, K, H, W) the maps before the image-adaptive refinement when the setting labels by agreement
    (``refine=dict(labels='agree')``), else None."""
    inputs: Tensor
    class_mask: Tensor
    cams: Tensor
    data_samples: list
    raw_cams: Optional[Tensor] = None


class CAMInferencer:
    """CAMs of one setting of one classifier.

    Args:
        model: the classifier (``ImageClassifier``; a model wrapper is unwrapped), in eval mode.
        cfg: its config (``cam_presets``, ``cam``, the head's ``cam_cfg``; see :func:`cam_settings`).
        name: a registered method or a preset name; default ``cfg.cam.method``.
    """

    def __init__(self, model, cfg: Config, name: Optional[str] = None) -> None:
        model = getattr(model, 'module', model)
        self.model = model
        self.name = name or cfg.get('cam', {}).get('method', 'gradcam')
        self.method, self.target_layers, self.settings = cam_settings(cfg, self.name)
        head = getattr(model, 'head', None)
        self.num_classes = getattr(head, 'num_classes', None)
        if isinstance(head, FGBPCAMHead):  # the head owns its method: settings here are its overrides
            self.cam = head.build_cam(model, self.method, target_layers=self.target_layers, **self.settings)
            self._draw = lambda x, m, cam=self.cam: head.predict_cams(model, x, m, cam=cam)
        else:
            self.cam = build_cam(self.method, model, self.target_layers, **self.settings)
            self._draw = lambda x, m, cam=self.cam: cam(x, m)
        #: pseudo-labels by agreement of the refined and the raw maps (the batch then carries both)
        self.labels_by_agreement = isinstance(self.cam, RefinedCAM) and self.cam.refinement.labels == 'agree'

    def maps(self, inputs: Tensor, class_mask: Tensor) -> Tensor:
        """(N, 3, H, W) preprocessed inputs, (N, K) bool -> (N, K, H, W) maps in [0, 1]."""
        return self._draw(inputs, class_mask)

    def __call__(self, data: dict) -> CAMBatch:
        """A collated batch (``pseudo_collate`` of dataset samples) -> :class:`CAMBatch`."""
        data = self.model.data_preprocessor(data, False)
        inputs, samples = data['inputs'], data['data_samples']
        num_classes = self.num_classes or self.model.data_preprocessor.num_classes
        mask = class_mask_from_samples(samples, num_classes, inputs.device)
        if self.labels_by_agreement:
            cams, raw = self._draw(inputs, mask, self.cam.maps_and_raw)
            return CAMBatch(inputs, mask, cams, samples, raw * mask[:, :, None, None])
        return CAMBatch(inputs, mask, self.maps(inputs, mask), samples)
