"""FGBP CAM head: a multi-label classification head that also draws the class activation maps of its
classes (Region-Aware CAM by default; any registered CAM method on request).

Training is that of a multi-label linear head on pooled features: ``logits = W pool(F) + b`` with ``F``
(N, C, h, w) the last backbone feature map (kept spatial by :class:`RegionAwareWeightingNeck` or by no
neck), ``pool`` generalized-mean pooling by default, BCE-with-logits loss.

At CAM time the head is where a classifier's CAM method and its FGBP settings live: :meth:`FGBPCAMHead.build_cam`
builds the method from ``cam_method`` / ``cam_cfg`` (FGBP quantile, criterion, filter points, target layers),
which back-propagates each class score through the classifier with the gradient filtered on its way and
fuses the per-layer maps with the classifier's neck (:class:`~mmwsss.models.RegionAwareWeightingNeck`, see
:mod:`mmwsss.cam.fgbp_cam`). Every CAM of the project comes through it
(:class:`mmwsss.apis.cam_inferencer.CAMInferencer`).
"""
from typing import Dict, Optional, Sequence, Tuple

from mmpretrain.models.heads import MultiLabelClsHead
from mmpretrain.registry import MODELS
from torch import Tensor, nn

from mmwsss.cam import build_cam
from mmwsss.registry import CAM_METHODS


def head_cam_settings(cam_method: str, cam_cfg: Optional[dict], method: str) -> Dict:
    """The CAM options an ``FGBPCAMHead`` gives ``method``: its whole ``cam_cfg`` for its own ``cam_method``;
    for another method (a baseline) only the deepest of its target layers."""
    cam_cfg = dict(cam_cfg or {})
    if method == cam_method:
        return cam_cfg
    layers = cam_cfg.get('target_layers')
    return dict(target_layers=[layers[-1]]) if layers else {}


@MODELS.register_module()
class FGBPCAMHead(MultiLabelClsHead):
    """Multi-label linear head on pooled spatial features, with CAMs.

    Args:
        num_classes: number of (defect) classes K.
        in_channels: channels C of the last feature map.
        pooling: config of the pooling module ((N, C, h, w) -> (N, C)); default GeM, p = 3.
        cam_method: registered CAM method drawn by :meth:`predict_cams` (``'racam'``, ``'gradcam'`` ...).
        cam_cfg: its options: ``target_layers`` (dotted module names of the classifier, shallow to deep) and
            method keyword arguments (for ``racam``: ``q``, ``criterion``, ``guided``, ``filter_points``).
        loss, thr, topk: as :class:`mmpretrain.models.heads.MultiLabelClsHead`.
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 pooling: Optional[dict] = None,
                 cam_method: str = 'racam',
                 cam_cfg: Optional[dict] = None,
                 loss: Optional[dict] = None,
                 thr: Optional[float] = None,
                 topk: Optional[int] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if num_classes <= 0:
            raise ValueError(f'num_classes must be > 0, got {num_classes}')
        if in_channels <= 0:
            raise ValueError(f'in_channels must be > 0, got {in_channels}')
        super().__init__(
            loss=loss if loss is not None else dict(type='CrossEntropyLoss', use_sigmoid=True),
            thr=thr,
            topk=topk,
            init_cfg=init_cfg if init_cfg is not None else dict(type='Normal', layer='Linear', std=0.01))
        if cam_method not in CAM_METHODS.module_dict:
            raise ValueError(f'unknown cam_method {cam_method!r}; registered: {sorted(CAM_METHODS.module_dict)}')
        cam_cfg = dict(cam_cfg or {})
        layers = cam_cfg.get('target_layers')
        if layers is not None and (isinstance(layers, str) or not layers):
            raise ValueError(f'cam_cfg.target_layers must be a non-empty list of module names, got {layers!r}')
        self.num_classes, self.in_channels = num_classes, in_channels
        self.cam_method, self.cam_cfg = cam_method, cam_cfg
        self.pool = MODELS.build(pooling if pooling is not None else dict(type='GeneralizedMeanPooling', p=3.0))
        self.fc = nn.Linear(in_channels, num_classes)

    def pre_logits(self, feats: Tuple[Tensor, ...]) -> Tensor:
        """``feats[-1]`` (N, C, h, w) or already pooled (N, C) -> (N, C)."""
        x = feats[-1]
        if x.dim() == 4:
            x = self.pool(x)
            x = x[-1] if isinstance(x, (tuple, list)) else x
        return x.flatten(1)

    def forward(self, feats: Tuple[Tensor, ...]) -> Tensor:
        """(N, K) class logits."""
        return self.fc(self.pre_logits(feats))

    def cam_settings(self, method: Optional[str] = None, **overrides) -> Tuple[str, Sequence[str], Dict]:
        """Method name, target layers and keyword arguments: ``cam_cfg`` for ``cam_method``; another method
        gets only the deepest of its target layers; ``overrides`` update either."""
        method = method or self.cam_method
        cfg = head_cam_settings(self.cam_method, self.cam_cfg, method)
        cfg.update(overrides)
        layers = cfg.pop('target_layers', None)
        if not layers:
            raise ValueError('FGBPCAMHead: no target_layers (set cam_cfg.target_layers or pass target_layers=)')
        return method, list(layers), cfg

    def build_cam(self, classifier: nn.Module, method: Optional[str] = None, **overrides):
        """The CAM method object for ``classifier`` (this head's model): ``method`` (default ``cam_method``)
        with :meth:`cam_settings`; ``scales`` / ``flip`` wrap it in multi-scale inference. Build once, call
        per batch: ``cam(inputs (N, 3, H, W), class_mask (N, K)) -> (N, K, H, W)`` in [0, 1]."""
        name, layers, kwargs = self.cam_settings(method, **overrides)
        return build_cam(name, classifier, layers, **kwargs)

    def predict_cams(self,
                     classifier: nn.Module,
                     inputs: Tensor,
                     class_mask: Tensor,
                     method: Optional[str] = None,
                     cam=None,
                     **overrides) -> Tensor:
        """Class activation maps of this head's classes.

        Args:
            classifier: the ``ImageClassifier`` (or a model wrapper) this head belongs to.
            inputs: (N, 3, H, W) preprocessed images.
            class_mask: (N, K) bool, which classes to draw per image (others stay 0).
            method: a registered CAM method; default ``cam_method``.
            cam: a method object from :meth:`build_cam` (reused across batches); else one is built.
        Returns:
            (N, K, H, W) maps in [0, 1].
        """
        if class_mask.shape != (inputs.shape[0], self.num_classes):
            raise ValueError(f'class_mask must be (N, K) = ({inputs.shape[0]}, {self.num_classes}), '
                             f'got {tuple(class_mask.shape)}')
        cam = cam if cam is not None else self.build_cam(classifier, method, **overrides)
        was_training = classifier.training
        classifier.eval()
        try:
            return cam(inputs, class_mask)
        finally:
            classifier.train(was_training)
