"""``LossRejectionEncoderDecoder`` (mmseg MODELS): an ``EncoderDecoder`` that trains on pseudo-labels without
fitting the labelled pixels it disagrees with most (large-loss rejection, as Kim et al., Large Loss Matters in Weakly
Supervised Multi-Label Classification, CVPR 2022, applied per pixel).

CAM pseudo-labels draw a defect as a blob a few feature cells wide; a segmenter fits the blob's rim too once it
memorises its labels (longer training on the same labels ends lower, docs/results.md session (m)). Per training
batch and per rejected class ``c``, of the ``n_c`` pixels labelled ``c`` the ``floor(r_t n_c)`` with the largest
unweighted cross-entropy of the decode head's (detached) logits become ``ignore_index`` before any loss is taken
(decode and auxiliary heads, every loss term):

    reject(p) = [y_p = c] and rank_c(CE_p) < floor(r_t n_c)        (rank 0 = the largest loss)
    r_t = reject_ratio * min(1, t / warmup_iters)                  (t: the runner's iteration)

The rejected pixels are not relabelled: the segmenter is only free to disagree there. Inference is unchanged, so
checkpoints are plain ``EncoderDecoder`` ones. Pure batched torch: one stable sort of the batch's labelled pixels
by (class, loss).
"""
from typing import List, Optional, Sequence

import torch
import torch.nn.functional as F
from mmengine.logging import MessageHub
from mmseg.models.segmentors import EncoderDecoder
from mmseg.models.utils import resize
from mmseg.registry import MODELS
from mmseg.utils import SampleList, add_prefix
from torch import Tensor


def large_loss_rejection(seg_logits: Tensor, labels: Tensor, ratio: float, classes: Sequence[int],
                         ignore_index: int = 255) -> Tensor:
    """(N, C, H, W) logits and (N, H, W) labels -> (N, H, W) bool: the pixels to reject (see the module docstring).

    Per class ``c`` in ``classes`` the ``floor(ratio * n_c)`` labelled pixels of largest cross-entropy; ties at the
    cut are broken by pixel order. Nothing else is rejected (the ignore band never)."""
    if not 0.0 <= ratio < 1.0:
        raise ValueError(f'reject_ratio must be in [0, 1), got {ratio}')
    num_classes = seg_logits.shape[1]
    rejected = torch.zeros_like(labels, dtype=torch.bool)
    if ratio == 0.0 or not classes:
        return rejected
    loss = F.cross_entropy(seg_logits.float(), labels.long(), ignore_index=ignore_index, reduction='none').flatten()
    flat = labels.flatten().long()
    chosen = torch.zeros(num_classes + 1, dtype=torch.bool, device=labels.device)
    chosen[torch.as_tensor(list(classes), device=labels.device)] = True
    candidates = (flat != ignore_index) & chosen[flat.clamp(max=num_classes)]
    index = candidates.nonzero().squeeze(1)
    if index.numel() == 0:
        return rejected
    cls, cls_loss = flat[index], loss[index]
    # sort by loss (descending), then stably by class: within each class, largest loss first
    order = cls_loss.argsort(descending=True)
    order = order[cls[order].argsort(stable=True)]
    counts = torch.bincount(cls, minlength=num_classes)
    starts = counts.cumsum(0) - counts
    rank = torch.arange(order.numel(), device=labels.device) - starts[cls[order]]
    keep_out = rank < (ratio * counts[cls[order]]).floor()
    rejected.view(-1)[index[order[keep_out]]] = True
    return rejected


@MODELS.register_module()
class LossRejectionEncoderDecoder(EncoderDecoder):
    """Args (besides ``EncoderDecoder``'s):
        reject_ratio: the fraction ``r`` of each rejected class's labelled pixels rejected per batch, in [0, 1).
        warmup_iters: iterations over which ``r_t`` rises linearly from 0 to ``reject_ratio`` (0: from the start).
        reject_background: also reject background pixels (class 0); by default only the defect classes' blobs.
    """

    def __init__(self, *args, reject_ratio: float = 0.2, warmup_iters: int = 500, reject_background: bool = False,
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not 0.0 <= reject_ratio < 1.0:
            raise ValueError(f'model.reject_ratio must be in [0, 1), got {reject_ratio}')
        if warmup_iters < 0:
            raise ValueError(f'model.warmup_iters must be >= 0, got {warmup_iters}')
        if self.out_channels < 2:
            raise ValueError('LossRejectionEncoderDecoder ranks pixels by softmax cross-entropy: a one-channel '
                             '(sigmoid) decode head is not supported; use EncoderDecoder')
        self.reject_ratio, self.warmup_iters = reject_ratio, warmup_iters
        first = 0 if reject_background else 1
        self.rejected_classes: List[int] = list(range(first, self.decode_head.num_classes))

    def current_ratio(self, iteration: Optional[int] = None) -> float:
        """``r_t``; ``iteration`` defaults to the runner's (mmengine ``MessageHub`` ``'iter'``; unknown: ramped)."""
        if iteration is None:
            iteration = MessageHub.get_current_instance().get_info('iter')
        if iteration is None or self.warmup_iters == 0:
            return self.reject_ratio
        return self.reject_ratio * min(1.0, iteration / self.warmup_iters)

    def _decode_head_forward_train(self, inputs: List[Tensor], data_samples: SampleList) -> dict:
        """The decode head's forward, the rejection written into ``data_samples`` (the auxiliary heads, called after,
        see it too), then the decode head's losses."""
        head = self.decode_head
        seg_logits = head.forward(inputs)
        ratio = self.current_ratio()
        if ratio > 0:
            labels = torch.stack([s.gt_sem_seg.data for s in data_samples])  # (N, 1, H, W)
            logits = resize(seg_logits.detach(), size=labels.shape[2:], mode='bilinear',
                            align_corners=head.align_corners)
            rejected = large_loss_rejection(logits, labels[:, 0], ratio, self.rejected_classes, head.ignore_index)
            for sample, mask in zip(data_samples, rejected):
                sample.gt_sem_seg.data = sample.gt_sem_seg.data.masked_fill(mask[None], head.ignore_index)
        return add_prefix(head.loss_by_feat(seg_logits, data_samples), 'decode')
