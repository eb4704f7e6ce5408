"""Pixel-adaptive refinement (PAR) of CAMs: training-free and image-guided, after ToCo (Ru et al., CVPR 2023)
and AFA (CVPR 2022). The map spreads along pixels that look alike and stops at image edges, so a CAM blob
at feature-map resolution snaps to the defect's outline.

Neighbours ``j`` of pixel ``i``: the 8 pixels at offsets ``{-d, 0, d}^2 \\ (0, 0)`` for every dilation ``d``
(replicate padding). With ``I`` the preprocessed image (C channels) and ``sigma_i`` the per-channel standard
deviation of ``I`` over ``i``'s neighbours:

    kappa_ij = - mean_c ( |I_ic - I_jc| / (w1 * sigma_ic) )^2         (appearance)
    rho_ij   = - ( d_j / (w1 * sigma_d) )^2                            (distance, sigma_d = std of the d_j)
    a_ij     = softmax_j(kappa_ij) + w2 * softmax_j(rho_ij)
    M_i     <- sum_j a_ij M_j                                          (num_iter times, every class map)

then every map is min-max rescaled (thresholds keep their meaning) and zeroed where its class is not
requested. Cost: ``8 * len(dilations) * num_iter`` shifted multiply-adds per map, no learned parameter.

How the refined map ``R`` replaces the raw one ``M`` (``combine``): ``'replace'`` (``R``); ``'max'``
(``minmax(max(M, R))``: the raw peaks stay, so a pit does not dissolve); ``'geomean'`` (``minmax(sqrt(M R))``:
high only where the raw map and the refined one agree, so spread into look-alike texture that the raw map never
lit falls back towards the band); ``'extent'`` (region-aware: propagation
helps a region larger than its reach and dilutes one smaller than that; per image and class
``beta R + (1 - beta) M`` with ``beta = clamp(e / r, 0, 1)``, ``e`` the raw salient extent (fraction of the image
where ``M >= 0.5``) and ``r = pi d_max^2 / (H W)`` the area within the largest dilation: set by the refinement
itself, no mask and no tuned number); ``'erasure'`` (per image and class the classifier chooses between ``M``
and ``R``: the smallest Otsu region whose erasure removes the class, see
:mod:`~mmwsss.cam.erasure_selection`; the refinement itself returns ``R`` and :class:`RefinedCAM` chooses).

Which map the pseudo-labels come from (``labels``): ``'refined'`` (the combined map above) or ``'agree'``
(the agreement band: each map is thresholded by the same rule, each with its own per-image thresholds, and a
pixel keeps a label only where both maps give it, else 255, "don't know"; see
:func:`~mmwsss.cam.pseudo_labels.agreement_labels`). Spread of the refinement into look-alike texture and raw
evidence the refinement moved off are both left to the segmenter instead of being taught as defect or as
background. The maps themselves (``eval_cams.py``, overlays) are the same either way.
"""
import math
from typing import List, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from .base_cam import minmax_scale
from .erasure_selection import ERASURE_RULES, ErasureSelection

EPS = 1e-8
COMBINE_MODES = ('replace', 'max', 'geomean', 'extent', 'erasure')
LABEL_SOURCES = ('refined', 'agree')


def _offsets(dilations: Sequence[int]) -> List[Tuple[int, int, int]]:
    """``(dy, dx, d)`` for the 8 neighbours at each dilation ``d``."""
    return [(dy * d, dx * d, d) for d in dilations for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dy or dx]


class PixelAdaptiveRefinement:
    """Args:
        dilations: neighbourhood radii in pixels of the CAM (= input) resolution.
        num_iter: propagation steps.
        w1: temperature of the appearance and distance terms.
        w2: weight of the distance term (a small pull towards the local mean).
        combine: ``'replace'``, ``'max'``, ``'geomean'``, ``'extent'`` or ``'erasure'`` (see the module docstring).
        erasure_rule: with ``combine='erasure'``, the :class:`~mmwsss.cam.erasure_selection.ErasureSelection` rule.
        labels: ``'refined'`` or ``'agree'``: which map(s) the pseudo-labels come from (module docstring).
    """

    def __init__(self, dilations: Sequence[int] = (1, 2, 4, 8, 12, 24), num_iter: int = 10, w1: float = 0.3,
                 w2: float = 0.01, combine: str = 'replace', erasure_rule: str = 'decision',
                 labels: str = 'refined') -> None:
        dilations = [int(d) for d in dilations]
        if not dilations or min(dilations) < 1:
            raise ValueError(f'refine.dilations must be positive integers, got {dilations}')
        if num_iter < 1:
            raise ValueError(f'refine.num_iter must be >= 1, got {num_iter}')
        if w1 <= 0 or w2 < 0:
            raise ValueError(f'refine needs w1 > 0 and w2 >= 0, got w1={w1}, w2={w2}')
        self.dilations, self.num_iter, self.w1, self.w2 = dilations, int(num_iter), float(w1), float(w2)
        if combine not in COMBINE_MODES:
            raise ValueError(f'refine.combine must be one of {COMBINE_MODES}, got {combine!r}')
        self.combine = combine
        if erasure_rule not in ERASURE_RULES:
            raise ValueError(f'refine.erasure_rule must be one of {ERASURE_RULES}, got {erasure_rule!r}')
        self.erasure_rule = erasure_rule
        if labels not in LABEL_SOURCES:
            raise ValueError(f'refine.labels must be one of {LABEL_SOURCES}, got {labels!r}')
        self.labels = labels
        self.offsets = _offsets(dilations)
        self.pad = max(dilations)

    def _neighbour(self, padded: Tensor, dy: int, dx: int, size: Tuple[int, int]) -> Tensor:
        """The (N, C, H, W) view of ``padded`` (replicate-padded by ``self.pad``) shifted by (dy, dx)."""
        p, (h, w) = self.pad, size
        return padded[..., p + dy:p + dy + h, p + dx:p + dx + w]

    def affinity(self, images: Tensor) -> Tensor:
        """(N, C, H, W) images -> (N, J, H, W) weights ``a_ij`` of the J neighbours of every pixel."""
        size = images.shape[-2:]
        img = images.float()
        padded = F.pad(img, [self.pad] * 4, mode='replicate')
        neigh = [self._neighbour(padded, dy, dx, size) for dy, dx, _ in self.offsets]
        count = len(neigh)
        mean = sum(neigh) / count
        var = torch.zeros_like(img)
        for n in neigh:
            d = n - mean
            var.addcmul_(d, d)
        inv = ((var / (count - 1)).sqrt_() + EPS).mul_(self.w1).reciprocal_()  # 1 / (w1 sigma), sigma unbiased
        kappa = img.new_empty((img.shape[0], count, *size))
        for j, n in enumerate(neigh):
            kappa[:, j] = (img - n).mul_(inv).square_().mean(1).neg_()
        dist = torch.tensor([d for _, _, d in self.offsets], dtype=kappa.dtype, device=kappa.device)
        rho = -(dist / (dist.std() + EPS) / self.w1).pow(2) if count > 1 else torch.zeros_like(dist)
        return kappa.softmax(1) + self.w2 * rho.softmax(0)[None, :, None, None]

    def propagate(self, maps: Tensor, affinity: Tensor) -> Tensor:
        """(N, K, H, W) maps -> the same after ``num_iter`` steps of ``M_i <- sum_j a_ij M_j`` (not rescaled)."""
        size = maps.shape[-2:]
        for _ in range(self.num_iter):
            padded = F.pad(maps, [self.pad] * 4, mode='replicate')
            out = torch.zeros_like(maps)
            for j, (dy, dx, _) in enumerate(self.offsets):
                out.addcmul_(affinity[:, j:j + 1], self._neighbour(padded, dy, dx, size))
            maps = out
        return maps

    def __call__(self, images: Tensor, maps: Tensor, class_mask: Tensor) -> Tensor:
        """(N, C, H, W) images, (N, K, H, W) maps in [0, 1], (N, K) bool -> refined maps in [0, 1]."""
        if maps.shape[-2:] != images.shape[-2:]:
            maps = F.interpolate(maps, size=images.shape[-2:], mode='bilinear', align_corners=False)
        out = torch.zeros_like(maps)
        n, k = class_mask.nonzero(as_tuple=True)  # only the requested maps: (P, 1, H, W), P pairs
        if n.numel():
            raw = maps[n, k].float()  # (P, H, W)
            # affinities of the images that have a requested map only (defect-free images have none)
            used, pair_image = torch.unique(n, return_inverse=True)
            affinity = self.affinity(images[used])[pair_image]
            refined = minmax_scale(self.propagate(raw.unsqueeze(1), affinity)[:, 0])
            if self.combine == 'max':
                refined = minmax_scale(torch.maximum(raw, refined))
            elif self.combine == 'geomean':
                refined = minmax_scale((raw.clamp(min=0) * refined).sqrt())
            elif self.combine == 'extent':
                reach = math.pi * self.pad**2 / raw[0].numel()
                beta = ((raw >= 0.5).float().mean((1, 2)) / reach).clamp(0, 1)[:, None, None]
                refined = minmax_scale(beta * refined + (1 - beta) * raw)
            out[n, k] = refined.to(maps.dtype)
        return out


class RefinedCAM:
    """Any CAM method followed by :class:`PixelAdaptiveRefinement` on the same batch; with ``combine='erasure'``
    an :class:`~mmwsss.cam.erasure_selection.ErasureSelection` on the wrapped method's classifier picks raw or
    refined per image and class."""

    def __init__(self, cam, refinement: PixelAdaptiveRefinement) -> None:
        self.cam, self.refinement = cam, refinement
        self.selection = (ErasureSelection(cam.forward_fn, refinement.erasure_rule)
                          if refinement.combine == 'erasure' else None)

    def __getattr__(self, name):  # target layers, model ... of the wrapped method
        if name == 'cam':
            raise AttributeError(name)
        return getattr(self.cam, name)

    def __call__(self, inputs: Tensor, class_mask: Tensor) -> Tensor:
        """(N, 3, H, W) inputs, (N, K) bool -> (N, K, H, W) refined maps in [0, 1]."""
        return self.maps_and_raw(inputs, class_mask)[0]

    def maps_and_raw(self, inputs: Tensor, class_mask: Tensor) -> Tuple[Tensor, Tensor]:
        """The refined maps and the wrapped method's raw ones, both (N, K, H, W) at the input size."""
        mask = class_mask.bool().to(inputs.device)
        raw = self.cam(inputs, class_mask)
        refined = self.refinement(inputs, raw, mask)
        if raw.shape[-2:] != refined.shape[-2:]:
            raw = F.interpolate(raw, size=refined.shape[-2:], mode='bilinear', align_corners=False)
        if self.selection is None:
            return refined, raw
        return self.selection(inputs, [raw, refined], mask), raw
