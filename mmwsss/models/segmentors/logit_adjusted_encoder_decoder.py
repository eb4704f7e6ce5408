"""``LogitAdjustedEncoderDecoder`` (mmseg MODELS): an ``EncoderDecoder`` whose inference logits undo the class
weights of its own training loss (post-hoc logit adjustment; Menon et al., Long-tail learning via logit adjustment,
ICLR 2021).

A cross-entropy with class weights ``w_c`` is minimised by ``q_c ∝ w_c p_c`` (``p`` the class posterior of the
training masks), so the trained logits ``z`` carry ``log w_c`` on top of ``log p_c``. With several CE terms of loss
weights ``λ_i`` and class weights ``w_ic`` (an unweighted CE has ``w_ic = 1``), ``w_c = sum_i λ_i w_ic``. Inference
uses

    z'_c = z_c + b_c,        b_c = -log(w_c / w_0)        (background, class 0, keeps its logit)

so ``argmax z'`` is the unweighted decision. Training (``loss``) is unchanged: the weights keep pushing the gradient
towards the small classes, the decision no longer leans towards them. The rule is exact for one CE term alone (every
shipped config has one); a Dice term beside it is not accounted for, and several CE terms each normalised by their
own weight sum make ``sum_i λ_i w_ic`` an approximation. Every inference path goes through :meth:`encode_decode`
(whole and slide inference, mmseg's ``predict``, test-time augmentation, the class gate, the relabelling hook) or
:meth:`_forward` (``mode='tensor'``); ONNX export calls :meth:`adjust` itself. A constant per class survives
the bilinear resize to the image, so where it is added does not matter.

It is right when the masks are right (the fully supervised bound). On pseudo-labels the weights also stand in for
regions the labels draw too small or too large, so the weak segmenters keep their plain logits (docs/results.md,
session (p)).
"""
from typing import List, Optional, Sequence, Union

import torch
from mmseg.models.losses import CrossEntropyLoss
from mmseg.models.segmentors import EncoderDecoder
from mmseg.registry import MODELS
from torch import Tensor, nn

from ..weighted_cross_entropy_loss import WeightedCrossEntropyLoss


def loss_class_weights(losses: Union[nn.Module, Sequence[nn.Module]], num_classes: int) -> Optional[Tensor]:
    """The decode head's loss module(s) -> (num_classes, ) ``w_c = sum_i λ_i w_ic`` over its softmax CE terms
    (:class:`~mmwsss.models.WeightedCrossEntropyLoss`, mmseg ``CrossEntropyLoss``); ``None`` without one."""
    losses = list(losses) if isinstance(losses, (nn.ModuleList, list, tuple)) else [losses]
    total = None
    for loss in losses:
        if isinstance(loss, WeightedCrossEntropyLoss):
            weights = loss.class_weights(num_classes)
        elif isinstance(loss, CrossEntropyLoss) and not (loss.use_sigmoid or loss.use_mask):
            weights = torch.tensor(loss.class_weight if loss.class_weight is not None else [1.0] * num_classes,
                                   dtype=torch.float)
        else:
            continue
        if weights.numel() != num_classes:
            raise ValueError(f'{weights.numel()} class weights in {type(loss).__name__} for {num_classes} classes')
        total = loss.loss_weight * weights + (0 if total is None else total)
    return total


@MODELS.register_module()
class LogitAdjustedEncoderDecoder(EncoderDecoder):
    """Args (besides ``EncoderDecoder``'s):
        logit_adjustment: ``'loss'`` (``b_c`` from the decode head's CE weights, see the module docstring), a
            sequence of one offset per class added to the logits, or ``None`` (plain ``EncoderDecoder``).
    """

    def __init__(self, *args, logit_adjustment: Union[None, str, Sequence[float]] = 'loss', **kwargs) -> None:
        super().__init__(*args, **kwargs)
        num_classes = self.decode_head.num_classes
        offsets = None
        if logit_adjustment == 'loss':
            if self.out_channels < 2:
                raise ValueError('model.logit_adjustment: a one-channel (sigmoid) decode head has no softmax to '
                                 'adjust; set model.logit_adjustment=None')
            weights = loss_class_weights(self.decode_head.loss_decode, num_classes)
            if weights is None:
                raise ValueError("model.logit_adjustment='loss' needs a softmax cross-entropy among "
                                 'model.decode_head.loss_decode; set model.logit_adjustment=None or one offset per '
                                 'class')
            if (weights <= 0).any():
                raise ValueError(f"model.logit_adjustment='loss': class weights must be > 0, got {weights.tolist()}")
            offsets = -(weights / weights[0]).log()
        elif isinstance(logit_adjustment, str):
            raise ValueError(f"model.logit_adjustment must be 'loss', None or one offset per class, got "
                             f'{logit_adjustment!r}')
        elif logit_adjustment is not None:
            offsets = torch.tensor([float(b) for b in logit_adjustment])
            if offsets.numel() != self.out_channels:
                raise ValueError(f'model.logit_adjustment has {offsets.numel()} offsets for {self.out_channels} '
                                 'output channels')
        self.register_buffer('logit_offsets', offsets, persistent=False)

    def adjust(self, logits: Tensor) -> Tensor:
        """(N, C, H, W) logits -> the same plus :attr:`logit_offsets` (unchanged without them)."""
        if self.logit_offsets is None:
            return logits
        return logits + self.logit_offsets.to(logits.dtype)[None, :, None, None]

    def encode_decode(self, inputs: Tensor, batch_img_metas: List[dict]) -> Tensor:
        """As ``EncoderDecoder``'s, adjusted: (N, C, H, W) logits at the input size."""
        return self.adjust(super().encode_decode(inputs, batch_img_metas))

    def _forward(self, inputs: Tensor, data_samples=None) -> Tensor:
        """``mode='tensor'``: the decode head's logits (N, C, H / s, W / s), adjusted."""
        return self.adjust(super()._forward(inputs, data_samples))
