"""How much IoU a decoder at output stride ``s`` can keep of a data set's masks, before any learning.

An oracle at stride ``s`` knows, in every ``s x s`` cell, the fraction of each class (area average of the one-hot
mask, zero padding right / bottom); the prediction is that map upsampled bilinearly by ``s`` (as mmseg resizes
logits) and its argmax:

    f = avgpool_s(onehot(M))        P = argmax_c up_s(f)_c        IoU_c = |P = c & M = c| / |P = c | M = c|

Thin and tiny classes lose the most (MTD test: crack 0.96 / 0.72 / 0.21 at stride 2 / 4 / 8, blowhole
0.96 / 0.84 / 0.39): a decoder that predicts at stride 8 cannot draw a crack however well it is trained.
"""
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from .segmentation_scores import IGNORE_INDEX, confusion_matrix


def stride_oracle(mask: Tensor, stride: int, num_classes: int) -> Tensor:
    """(H, W) class ids (255 = ignore, kept as background for the fractions) -> (H, W) the stride-``stride``
    oracle's prediction (module docstring)."""
    if stride < 1:
        raise ValueError(f'stride must be >= 1, got {stride}')
    h, w = mask.shape
    ids = torch.where(mask == IGNORE_INDEX, torch.zeros_like(mask), mask).long()
    onehot = F.one_hot(ids, num_classes).permute(2, 0, 1)[None].float()  # (1, C, H, W)
    onehot = F.pad(onehot, (0, (-w) % stride, 0, (-h) % stride))
    frac = F.avg_pool2d(onehot, stride)
    up = F.interpolate(frac, scale_factor=stride, mode='bilinear', align_corners=False)
    return up[0, :, :h, :w].argmax(0)


def stride_ceiling(masks: Sequence[Tensor], strides: Sequence[int], num_classes: int) -> Tensor:
    """Masks ((H_i, W_i) class ids) -> (len(strides), num_classes, num_classes) confusion of each stride's oracle
    against the masks, accumulated over the images (rows = GT, cols = prediction)."""
    out = torch.zeros(len(strides), num_classes, num_classes, dtype=torch.long)
    for mask in masks:
        for i, s in enumerate(strides):
            out[i] += confusion_matrix(stride_oracle(mask, s, num_classes), mask, num_classes)
    return out
