"""``WeightedCrossEntropyLoss`` (mmseg MODELS): class-weighted CE that works with ignore labels.

Pseudo-labels are mostly background with small defects and a 255 "don't know" band. mmseg 1.2.2's
``CrossEntropyLoss(class_weight=...)`` fails on any ignored pixel (it indexes the weights with 255) and
loops over pixels in Python; this loss is ``F.cross_entropy(weight=w, ignore_index=255)``: the weighted
mean over non-ignored pixels.
"""
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor, nn


@MODELS.register_module()
class WeightedCrossEntropyLoss(nn.Module):
    """Args:
        class_weight: one weight per class (background first); overrides ``defect_weight``.
        defect_weight: weight of every class but background (0), which keeps weight 1; lets one config
            serve any number of defect classes. ``None`` with no ``class_weight``: plain CE.
        loss_weight: multiplier of the loss.
        loss_name: key in the loss dict (must start with ``loss_``).
    """

    def __init__(self, class_weight: Optional[Sequence[float]] = None, defect_weight: Optional[float] = None,
                 loss_weight: float = 1.0, loss_name: str = 'loss_wce') -> None:
        super().__init__()
        if class_weight is not None and any(w < 0 for w in class_weight):
            raise ValueError(f'class weights must be >= 0, got {class_weight}')
        if defect_weight is not None and defect_weight < 0:
            raise ValueError(f'defect_weight must be >= 0, got {defect_weight}')
        self.defect_weight = defect_weight
        if not loss_name.startswith('loss_'):
            raise ValueError(f"loss_name must start with 'loss_' to be back-propagated, got {loss_name!r}")
        self.register_buffer('class_weight', None if class_weight is None else torch.tensor(class_weight,
                                                                                            dtype=torch.float))
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def forward(self, cls_score: Tensor, label: Tensor, weight: Optional[Tensor] = None,
                ignore_index: int = 255, **kwargs) -> Tensor:
        """cls_score (N, C, H, W) logits, label (N, H, W) in {0..C-1, ignore_index} -> scalar."""
        valid = label != ignore_index
        if not valid.any():
            return cls_score.sum() * 0.0
        w = self.class_weights(cls_score.shape[1], cls_score.device).to(cls_score.dtype)
        return self.loss_weight * F.cross_entropy(cls_score, label.long(), weight=w, ignore_index=ignore_index)

    def class_weights(self, num_classes: int, device: Optional[torch.device] = None) -> Tensor:
        """(num_classes, ) the weight of each class on ``device`` (``None``: where ``class_weight`` lives, else the
        CPU): ``class_weight``, else 1 for background and ``defect_weight`` for every other class, else all 1."""
        if self.class_weight is not None:
            if self.class_weight.numel() != num_classes:
                raise ValueError(f'{self.class_weight.numel()} class weights for {num_classes} classes')
            return self.class_weight.to(device).clone()
        weights = torch.ones(num_classes, device=device)
        if self.defect_weight is not None:
            weights[1:] = self.defect_weight
        return weights

    @property
    def loss_name(self) -> str:
        return self._loss_name
