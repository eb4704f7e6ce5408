"""``ClassDiceLoss`` (mmseg MODELS): per-class soft Dice over the batch that respects ignore labels.

Small defect classes (MTD blowholes cover 0.2 % of an image) contribute almost nothing to a pixel-mean
CE. A per-class Dice term weighs every class present in the batch equally, whatever its area. mmseg
1.2.2's ``DiceLoss`` does not fit: it flattens all classes into one score per image (background dominates)
and counts predictions on ignored (255) pixels in the denominator, which penalises the pseudo-label band.

With ``p`` the softmax of the logits and ``y`` the one-hot label, both restricted to valid pixels ``v``::

    dice_c = (2 * sum_v p_c y_c + eps) / (sum_v p_c + sum_v y_c + eps)
    loss   = loss_weight * mean_{c in C} (1 - dice_c),  C = classes present in the batch's labels

(classes absent from the batch would only push their probability to zero, which CE already does).
"""
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor, nn


@MODELS.register_module()
class ClassDiceLoss(nn.Module):
    """Args:
        loss_weight: multiplier of the loss.
        eps: smoothing term of the Dice ratio.
        loss_name: key in the loss dict (must start with ``loss_``).
    """

    def __init__(self, loss_weight: float = 1.0, eps: float = 1.0, loss_name: str = 'loss_dice') -> None:
        super().__init__()
        if not loss_name.startswith('loss_'):
            raise ValueError(f"loss_name must start with 'loss_' to be back-propagated, got {loss_name!r}")
        self.loss_weight = loss_weight
        self.eps = eps
        self._loss_name = loss_name

    def forward(self, cls_score: Tensor, label: Tensor, weight=None, ignore_index: int = 255,
                **kwargs) -> Tensor:
        """cls_score (N, C, H, W) logits, label (N, H, W) in {0..C-1, ignore_index} -> scalar."""
        num_classes = cls_score.shape[1]
        valid = (label != ignore_index).unsqueeze(1)  # (N, 1, H, W)
        prob = cls_score.float().softmax(dim=1) * valid
        onehot = F.one_hot(label.long().clamp(0, num_classes - 1), num_classes).permute(0, 3, 1, 2) * valid
        inter = (prob * onehot).sum(dim=(0, 2, 3))
        dice = (2 * inter + self.eps) / (prob.sum(dim=(0, 2, 3)) + onehot.sum(dim=(0, 2, 3)) + self.eps)
        present = onehot.sum(dim=(0, 2, 3)) > 0
        if not bool(valid.any()):
            return cls_score.sum() * 0.0
        loss = ((1 - dice) * present).sum() / present.sum().clamp(min=1)
        return self.loss_weight * loss

    @property
    def loss_name(self) -> str:
        return self._loss_name
