"""Local-contrast prior for small pseudo-label regions (training-free, no mask, pure torch).

A CAM region is a blob a few feature cells wide: right for a stain or a frayed edge, far too wide for a blowhole
or a hairline crack, which the segmenter then learns as blobs. Inside a *small* region the defect is the part that
stands out from the image's own surface; this keeps that part and takes the rest of the blob out:

    d(x) = box_k(I)(x) - I(x)                      (grey image I, k x k mean, reflect padding)
    a_dark = max(d, 0),  a_bright = max(-d, 0)
    t_p = quantile_q( a_p(x) : label(x) = 0 )      (how far the image's own background strays, polarity p)
    p* = argmax_p ( max_{x in F} a_p(x) - t_p )    (the defect's polarity: its peak stands out most)
    keep = F & {a_p* > t_p*}
    label'(x) = h where x in F \\ keep, else label(x)   (unchanged when keep is empty)

with ``F`` the image's defect pixels (labels 1..K) and ``h`` the halo's label: 0 (``halo='background'``, the default:
the segmenter learns the defect's tight extent; MTD weak segmenter gated 0.487 against 0.459 with 255) or 255
(``halo='ignore'``, "don't know"). It applies only when ``|F| < max_area * H * W`` (a small region); larger regions
(unevenness, breaks) keep their CAM extent, and the 255 band is left as it is.

Not every class is defined by contrast: a large soft stain whose CAM region is small stands out nowhere, and what
the rule keeps of it is surface texture (a segmenter taught that flags OK parts). So the narrowing is decided per
class, over the whole split, from the regions themselves:

    r = max_{x in F} a_p*(x) / max(t_p*, 1)          (the region's peak over the background's strays, grey levels)
    class k is narrowed  <=>  median(r over the small regions whose pixels are mostly k) >= min_peak

Measured medians (docs/results.md, session (o)): MTD 2.35 (break) to 5.5 (uneven); synthetic scratch 2.7, pit 3.6,
stain 1.3. ``min_peak=2`` narrows every MTD class and leaves synthetic stains alone; ``min_peak=0`` narrows every
class (session (n)'s rule).
"""
import statistics
from typing import Dict, List, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from .pseudo_labels import IGNORE_INDEX

HALO_LABELS = dict(background=0, ignore=IGNORE_INDEX)


def local_contrast(gray: Tensor, kernel: int) -> Tensor:
    """(H, W) grey image -> (H, W) ``box_k(I) - I``: positive where a pixel is darker than its k x k
    neighbourhood's mean. ``kernel`` is odd; it shrinks to fit an image smaller than it (reflect padding)."""
    if gray.dim() != 2:
        raise ValueError(f'gray must be (H, W), got {tuple(gray.shape)}')
    k = min(int(kernel), 2 * ((min(gray.shape) - 1) // 2) + 1)
    x = gray.float()[None, None]
    if k > 1:
        x_pad = F.pad(x, (k // 2, ) * 4, mode='reflect')
        local = F.avg_pool2d(x_pad, k, stride=1)
    else:
        local = x
    return (local - x)[0, 0]


def quantiles(values: Tensor, q: float) -> Tensor:
    """(P, n) -> (P,) the ``q``-quantile of each row, linearly interpolated between order statistics (the rule of
    ``torch.quantile``, without its 2^24-element limit: a 20-megapixel image's background is larger)."""
    n = values.shape[1]
    pos = q * (n - 1)
    lo = int(pos)
    below = values.kthvalue(lo + 1, dim=1).values
    above = values.kthvalue(min(lo + 2, n), dim=1).values
    return below + (above - below) * (pos - lo)


class ContrastPrior:
    """Args:
        max_area: a label whose defect pixels cover less than this fraction of the image is a small region.
        kernel: odd side of the neighbourhood (px at the label's resolution).
        quantile: the share of the image's background contrast a kept pixel must exceed.
        halo: what the rest of a narrowed region becomes: ``'background'`` (0) or ``'ignore'`` (255).
        min_peak: a class is narrowed when the median peak ratio ``r`` of its small regions reaches this
            (:meth:`narrowed_classes`); 0 narrows every class.
    """

    def __init__(self, max_area: float = 0.03, kernel: int = 31, quantile: float = 0.99,
                 halo: str = 'background', min_peak: float = 2.0) -> None:
        if not 0 < max_area <= 1:
            raise ValueError(f'contrast_prior.max_area must be in (0, 1], got {max_area}')
        if kernel < 1 or kernel % 2 == 0:
            raise ValueError(f'contrast_prior.kernel must be an odd number >= 1, got {kernel}')
        if not 0 < quantile < 1:
            raise ValueError(f'contrast_prior.quantile must be in (0, 1), got {quantile}')
        if halo not in HALO_LABELS:
            raise ValueError(f'contrast_prior.halo must be one of {tuple(HALO_LABELS)}, got {halo!r}')
        if min_peak < 0:
            raise ValueError(f'contrast_prior.min_peak must be >= 0, got {min_peak}')
        self.max_area, self.kernel, self.quantile, self.halo = float(max_area), int(kernel), float(quantile), halo
        self.min_peak = float(min_peak)

    def settings(self) -> dict:
        """The arguments, as the pseudo-label manifest records them."""
        return dict(max_area=self.max_area, kernel=self.kernel, quantile=self.quantile, halo=self.halo,
                    min_peak=self.min_peak)

    def applies(self, label: Tensor) -> bool:
        """Whether ``label`` (H, W) holds a small defect region and background to calibrate on."""
        fg = (label > 0) & (label != IGNORE_INDEX)
        count = int(fg.sum())
        return 0 < count < self.max_area * label.numel() and bool((label == 0).any())

    def narrow(self, label: Tensor, gray: Tensor) -> Tuple[Tensor, int, float]:
        """(H, W) uint8 label in {0, 1..K, 255}, (H, W) grey image of the same size -> (narrowed (H, W) uint8 label,
        the region's class ``k`` (most of its pixels; 0 where the rule does not apply), its peak ratio ``r``); the
        label is ``label`` itself where the rule leaves it as it is."""
        if label.shape != gray.shape:
            raise ValueError(f'label and image must have the same size, got {tuple(label.shape)} and '
                             f'{tuple(gray.shape)}')
        if not self.applies(label):
            return label, 0, 0.0
        fg = (label > 0) & (label != IGNORE_INDEX)
        region_class = int(torch.bincount(label[fg].long()).argmax())
        d = local_contrast(gray, self.kernel)
        a = torch.stack([d.clamp(min=0), (-d).clamp(min=0)])  # (2, H, W): dark, bright
        cut = quantiles(a[:, label == 0], self.quantile)  # (2,)
        peak = a[:, fg].amax(1)
        polarity = int((peak - cut).argmax())  # a tie goes to dark
        ratio = float(peak[polarity] / cut[polarity].clamp(min=1.0))
        keep = fg & (a[polarity] > cut[polarity])
        if not bool(keep.any()):  # nothing stands out: no evidence to narrow the region with
            return label, region_class, ratio
        halo = torch.full_like(label, HALO_LABELS[self.halo])
        return torch.where(fg & ~keep, halo, label), region_class, ratio

    def __call__(self, label: Tensor, gray: Tensor) -> Tensor:
        """:meth:`narrow`'s label, whatever the region's class."""
        return self.narrow(label, gray)[0]

    def narrowed_classes(self, ratios: Dict[int, List[float]]) -> Dict[int, dict]:
        """{class: peak ratios of its small regions} -> {class: dict(regions, median_peak, narrowed)}, the split-level
        decision ``median >= min_peak``."""
        out = {}
        for k, values in sorted(ratios.items()):
            median = statistics.median(values) if values else 0.0
            out[k] = dict(regions=len(values), median_peak=round(median, 4), narrowed=median >= self.min_peak)
        return out


__all__ = ['ContrastPrior', 'local_contrast', 'quantiles']
