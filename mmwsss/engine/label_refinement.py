"""Fuse a segmenter's predictions with the current pseudo-labels (one refinement round, pure torch).

With ``P`` (N, C, H, W) the segmenter's class probabilities (C = K + 1, background first), ``L`` (N, H, W)
the current labels (255 = ignore) and the image labels ``y`` (N, K):

1. image-level constraints: ``P[c] = 0`` for defect classes not in ``y`` (renormalized);
2. fusion ``Q``: ``'replace'``: ``Q = P``; ``'average'``: ``Q = (1 - w) P + w onehot(L)`` where ``L`` is
   valid (``w`` = ``label_weight``: the model must beat the current label by a margin to change it);
   ``'agree'``: ``Q = P``, and pixels where ``argmax P != L`` (``L`` valid) become 255;
3. ``label = argmax Q``, 255 where ``max Q < conf_thr``; defect-free images (``y`` empty) all 0;
4. ``keep_lost_classes``: a class of ``y`` that had pixels in ``L`` but has none in the new label keeps its
   ``L`` pixels (a segmenter that has not learned a class yet must not erase it from the training labels:
   on MTD, relabelling with a 1000-iteration segmenter erased ``fray``; its rounds ended at half the test
   defect-mIoU of training on without relabelling).
"""
import torch
import torch.nn.functional as F
from torch import Tensor

IGNORE_INDEX = 255
FUSION_MODES = ('replace', 'average', 'agree')


def refine_pseudo_labels(probs: Tensor,
                         labels: Tensor,
                         class_mask: Tensor,
                         mode: str = 'average',
                         conf_thr: float = 0.7,
                         label_weight: float = 0.3,
                         keep_lost_classes: bool = False) -> Tensor:
    """One refinement step.

    Args:
        probs: (N, C, H, W) probabilities (softmax of the segmenter's logits), C = K + 1.
        labels: (N, H, W) current labels in {0..K, 255}.
        class_mask: (N, K) bool image-level labels.
        mode: ``'replace'``, ``'average'`` or ``'agree'``.
        conf_thr: pixels whose fused confidence is below it become 255.
        label_weight: weight ``w`` of the current label in ``'average'``.
        keep_lost_classes: restore the current label's pixels of an image-level class that the new label
            lost entirely (step 4).
    Returns:
        (N, H, W) uint8 labels in {0..K, 255}.
    """
    if mode not in FUSION_MODES:
        raise ValueError(f'mode must be one of {FUSION_MODES}, got {mode!r}')
    if not 0.0 <= conf_thr <= 1.0:
        raise ValueError(f'conf_thr must be in [0, 1], got {conf_thr}')
    if not 0.0 <= label_weight <= 1.0:
        raise ValueError(f'label_weight must be in [0, 1], got {label_weight}')
    n, c = probs.shape[:2]
    if labels.shape != (n, *probs.shape[2:]) or class_mask.shape != (n, c - 1):
        raise ValueError(f'shapes: probs (N, C, H, W) = {tuple(probs.shape)} needs labels (N, H, W) and '
                         f'class_mask (N, C - 1); got {tuple(labels.shape)} and {tuple(class_mask.shape)}')
    mask = class_mask.bool().to(probs.device)
    allowed = torch.cat([torch.ones_like(mask[:, :1]), mask], 1).to(probs.dtype)[:, :, None, None]
    p = probs * allowed
    p = p / p.sum(1, keepdim=True).clamp(min=1e-12)
    labels = labels.to(probs.device).long()
    valid = (labels != IGNORE_INDEX) & (labels < c)
    q = p
    if mode == 'average':
        onehot = F.one_hot(torch.where(valid, labels, 0), c).permute(0, 3, 1, 2).to(p.dtype)
        q = torch.where(valid[:, None], (1 - label_weight) * p + label_weight * onehot, p)
    conf, new = q.max(1)
    new[conf < conf_thr] = IGNORE_INDEX
    if mode == 'agree':
        new[valid & (new != labels)] = IGNORE_INDEX
    new[~mask.any(1)] = 0
    if keep_lost_classes:
        new = _restore_lost_classes(new, labels, valid, mask)
    return new.to(torch.uint8)


def _restore_lost_classes(new: Tensor, labels: Tensor, valid: Tensor, mask: Tensor) -> Tensor:
    """Step 4: ``new``, ``labels`` (N, H, W) long, ``valid`` (N, H, W), ``mask`` (N, K) -> ``new`` with the
    ``labels`` pixels of each class in ``mask`` that ``new`` lost entirely put back."""
    n, k = mask.shape
    ids = torch.arange(1, k + 1, device=new.device).view(1, k, 1)
    had = (labels.reshape(n, 1, -1) == ids).any(-1)  # (N, K)
    has = (new.reshape(n, 1, -1) == ids).any(-1)
    lost = torch.cat([torch.zeros_like(mask[:, :1]), mask & had & ~has], 1)  # (N, K + 1), background never
    # ignored pixels index background, which is never lost (``valid`` already means label <= K)
    back = lost.gather(1, torch.where(valid, labels, 0).reshape(n, -1)).view_as(new)
    return torch.where(back, labels, new)
