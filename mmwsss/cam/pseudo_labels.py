"""CAMs + image-level labels -> pseudo-label masks (batched, pure torch)."""
from typing import Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor

IGNORE_INDEX = 255


def score_map(cams: Tensor, class_mask: Tensor, size: Tuple[int, int]) -> Tuple[Tensor, Tensor, Tensor]:
    """One image's (1, K, h, w) maps and (1, K) class mask -> ``(maps (1, K, H, W) at size, score (H, W), class
    (H, W) long in 1..K)``: the maps resized (bilinear), the max over the image's classes (what the thresholds
    cut) and which class it is."""
    full = F.interpolate(cams, size=tuple(size), mode='bilinear', align_corners=False)
    score, idx = (full[0] * class_mask[0, :, None, None]).max(0)
    return full, score, idx + 1


def cams_to_pseudo_labels(cams: Tensor, class_mask: Tensor, bg_thr: Union[float, Tensor],
                          fg_thr: Union[float, Tensor]) -> Tensor:
    """Turn normalized CAMs into a label map with an uncertainty band.

    With ``s = max_k cams[n, k]`` over the image's classes and ``k* = argmax``:
    ``label = k* + 1`` if ``s >= fg_thr``; ``0`` (background) if ``s < bg_thr``; ``255`` (ignore) otherwise.
    Classes absent from the image label never appear; a defect-free image (no class) is all background.

    Args:
        cams: (N, K, H, W) maps in [0, 1].
        class_mask: (N, K) bool image-level labels.
        bg_thr, fg_thr: thresholds with ``0 <= bg_thr <= fg_thr <= 1`` (equal = no ignore band): numbers,
            (N,) tensors of per-image thresholds, or (N, K) per image and class (a pixel is cut at the
            thresholds of its class ``k*``; :mod:`mmwsss.cam.threshold_rules`).
    Returns:
        (N, H, W) uint8 labels in {0, 1..K, 255}.
    """
    if cams.dim() != 4 or class_mask.shape != cams.shape[:2]:
        raise ValueError(f'cams must be (N, K, H, W) and class_mask (N, K); got {tuple(cams.shape)} and '
                         f'{tuple(class_mask.shape)}')
    n, k = cams.shape[:2]
    bg, fg = (_per_class(t, n, k, cams.device) for t in (bg_thr, fg_thr))
    if bool(((bg < 0) | (bg > fg) | (fg > 1)).any()):
        raise ValueError(f'need 0 <= bg_thr <= fg_thr <= 1, got bg_thr={bg_thr}, fg_thr={fg_thr}')
    mask = class_mask.bool().to(cams.device)
    scores, idx = (cams * mask[:, :, None, None]).max(1)
    labels = (idx + 1).to(torch.uint8)
    labels[scores < fg.gather(1, idx.flatten(1)).view_as(scores)] = IGNORE_INDEX
    labels[scores < bg.gather(1, idx.flatten(1)).view_as(scores)] = 0
    labels[~mask.any(1)] = 0
    return labels


def _per_class(thr: Union[float, Tensor], n: int, k: int, device) -> Tensor:
    """A number, (N,) or (N, K) thresholds -> (N, K) float32."""
    t = torch.as_tensor(thr, dtype=torch.float32, device=device)
    if t.dim() == 2:
        if tuple(t.shape) != (n, k):
            raise ValueError(f'per-class thresholds must be (N, K) = {(n, k)}, got {tuple(t.shape)}')
        return t
    if t.numel() not in (1, n):
        raise ValueError(f'thresholds must be a number, (N,) = ({n},) or (N, K) = {(n, k)}, got {tuple(t.shape)}')
    return t.reshape(-1, 1).expand(n, k)


def agreement_labels(labels: Tensor, other: Tensor) -> Tensor:
    """The agreement band of two label maps of the same image(s): ``labels`` where ``labels == other``, else
    ``255`` (so a pixel that either map leaves undecided stays undecided).

    Args:
        labels, other: (..., H, W) uint8 label maps in {0, 1..K, 255}, e.g. from the refined and the raw CAM.
    Returns:
        the same shape and dtype.
    """
    if labels.shape != other.shape:
        raise ValueError(f'label maps must have the same shape, got {tuple(labels.shape)} and {tuple(other.shape)}')
    return torch.where(labels == other, labels, torch.full_like(labels, IGNORE_INDEX))
