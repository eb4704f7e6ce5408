"""GT-free pseudo-label thresholds: per-image rules computed from the CAM itself (batched, pure torch).

A user with OK / NG folders has no mask to pick ``bg_thr`` / ``fg_thr`` with. A rule derives them per image
from that image's score map ``s`` (the max over its image-level classes of the normalized CAMs, in [0, 1]):

* ``otsu``: ``t`` = Otsu's threshold of the histogram of ``s`` (``bins`` bins): the cut maximising the
  between-class variance ``w0 w1 (mu0 - mu1)^2``; parameter-free, adapts to each image's defect extent.
* ``min_error``: Kittler-Illingworth minimum-error threshold: the cut minimising
  ``J(t) = w0 ln var0 + w1 ln var1 - 2 (w0 ln w0 + w1 ln w1)`` (two Gaussians of their own weight and spread).
  Otsu's criterion favours cuts that split the pixels into comparable parts, so for a defect that covers 0.2 %
  of an image its cut falls inside the wide, low-score halo; the minimum-error cut lets the classes be unequal.
  Measured below Otsu on MTD and on the synthetic set (a min-max-normalised map's narrow spike near 1 becomes
  the upper class; docs/results.md, session 2026-12-02 (d)): an option, not a default.
* ``fixed``: ``t = bg_thr`` for every image (the explicit numbers, as before).

Split-level rules (one ``t`` for every image of a split, as the oracle threshold is; scored by ``eval_cams.py
--rules``, :func:`split_threshold`):

* ``pooled_otsu``: Otsu's threshold of the split's pooled histogram (every pixel of every score map).
* ``median_otsu``: the median of the per-image Otsu thresholds (an image whose map has no split left out).

A per-class rule for the settings that label by agreement of the raw and the refined map
(``refine=dict(labels='agree')``, the RA-CAM default):

* ``agreement_otsu``: per-image Otsu, the defect cut raised to a floor per class: ``t_k(image) = max(otsu(s),
  f_k)``, the background cut kept at ``bg_ratio otsu(s)`` (pixels between are 255: a floor turns defect pixels
  into "don't know", never into background; raising both cuts taught the synthetic segmenter that faint pits
  are background, docs/results.md (l)). The floor
  ``f_k`` is the value of :data:`FLOOR_GRID` at which the two maps agree best on class ``k``, pooled over the
  split's defective images: ``f_k = argmax_f sum |A^k_f & B^k_f| / sum |A^k_f | B^k_f|`` with
  ``A^k_f = {s_refined >= max(otsu(s_refined), f)} & {argmax = k}`` and ``B^k_f`` the same for the raw map
  (:func:`agreement_counts`, :func:`best_agreement`). ``f_k = 0`` is plain per-image Otsu. Why: Otsu's cut
  of a map whose defect covers 0.2 % of the image falls in the wide low-score halo, where the two maps
  disagree; the floor lifts the cut to where they agree again, and stays at 0 for classes whose Otsu regions
  already agree. A setting with one map (no refinement, e.g. Grad-CAM) has nothing to agree with: every floor
  is 0. Measured in docs/results.md, session (l).

The pseudo-label band is then ``fg = t`` (defect from the cut up) and ``bg = bg_ratio * t`` (background below;
pixels between are 255, "don't know"). ``cam.threshold_rule=dict(type='otsu', bg_ratio=0.5)`` in a pipeline
config selects a rule; explicit ``cam.bg_thr`` / ``cam.fg_thr`` are used when no rule is set. A split-level rule
(``type='median_otsu'``) makes pseudo-label generation read every defective image's map once before the first
label is written (the threshold is recorded in ``manifest.json``, ``split_thresholds``).
"""
from typing import Optional, Tuple

import torch
from torch import Tensor

THRESHOLD_RULES = ('otsu', 'min_error', 'fixed')
SPLIT_RULES = ('pooled_otsu', 'median_otsu', 'agreement_otsu')
CLASS_FLOOR_RULES = ('agreement_otsu', )
#: the floors ``agreement_otsu`` chooses from (0 = plain per-image Otsu)
FLOOR_GRID = tuple(round(0.05 * i, 2) for i in range(20))


def _histograms(scores: Tensor, bins: int) -> Tuple[Tensor, Tensor]:
    """(N, H, W) maps in [0, 1] -> ((N, bins) pixel fractions per bin, (bins,) bin centres)."""
    if scores.dim() != 3:
        raise ValueError(f'scores must be (N, H, W), got {tuple(scores.shape)}')
    n = scores.shape[0]
    flat = scores.reshape(n, -1).float().clamp(0, 1)
    idx = (flat * bins).long().clamp(max=bins - 1)
    hist = torch.zeros(n, bins, device=scores.device).scatter_add_(1, idx, torch.ones_like(flat))
    centers = (torch.arange(bins, device=scores.device, dtype=torch.float32) + 0.5) / bins
    return hist / hist.sum(1, keepdim=True).clamp(min=1), centers


def otsu_thresholds(scores: Tensor, bins: int = 256) -> Tensor:
    """(N, H, W) maps in [0, 1] -> (N,) Otsu thresholds; ``score >= t`` is the upper class.

    The histogram has ``bins`` equal bins on [0, 1]; the threshold is the upper edge of the last bin of the
    lower class. A map with one occupied bin has no split and gets ``t = 1`` (all lower).
    """
    return _otsu_cut(*_histograms(scores, bins))


def _otsu_cut(p: Tensor, centers: Tensor) -> Tensor:
    """(N, bins) pixel fractions, (bins,) bin centres -> (N,) Otsu thresholds (see :func:`otsu_thresholds`)."""
    bins = p.shape[1]
    w0 = p.cumsum(1)
    mu = (p * centers).cumsum(1)
    denom = w0 * (1 - w0)
    between = torch.where(denom > 1e-9, (mu[:, -1:] * w0 - mu)**2 / denom.clamp(min=1e-9),
                          torch.full_like(denom, -1.0))
    best, k = between.max(1)
    t = (k + 1).float() / bins  # the upper edge of bin k: bins > k are the upper class
    return torch.where(best >= 0, t, torch.ones_like(t))  # one occupied bin: no split, nothing above


def min_error_thresholds(scores: Tensor, bins: int = 256) -> Tensor:
    """(N, H, W) maps in [0, 1] -> (N,) Kittler-Illingworth thresholds; ``score >= t`` is the upper class.

    ``J(k) = w0 ln var0 + w1 ln var1 - 2 (w0 ln w0 + w1 ln w1)`` over cuts after bin ``k`` with both parts
    occupied; each variance is floored at a bin's quantisation variance ``1 / (12 bins^2)``, so a part that is
    one spike is a narrow Gaussian, not ``ln 0``. Ties take the lowest cut; one occupied bin gets ``t = 1``.
    """
    p, centers = _histograms(scores, bins)
    w0 = p.cumsum(1)
    w1 = 1 - w0
    m0, s0 = (p * centers).cumsum(1), (p * centers**2).cumsum(1)
    m1, s1 = m0[:, -1:] - m0, s0[:, -1:] - s0
    floor = 1.0 / (12 * bins**2)
    valid = (w0 > 1e-9) & (w1 > 1e-9)
    w0c, w1c = w0.clamp(min=1e-9), w1.clamp(min=1e-9)
    var0 = (s0 / w0c - (m0 / w0c)**2).clamp(min=0) + floor
    var1 = (s1 / w1c - (m1 / w1c)**2).clamp(min=0) + floor
    j = w0c * var0.log() + w1c * var1.log() - 2 * (w0c * w0c.log() + w1c * w1c.log())
    j = torch.where(valid, j, torch.full_like(j, float('inf')))
    best, k = j.min(1)
    t = (k + 1).float() / bins
    return torch.where(torch.isfinite(best), t, torch.ones_like(t))


_RULE_FUNCTIONS = dict(otsu=otsu_thresholds, min_error=min_error_thresholds)


def parse_threshold_rule(rule: dict) -> Tuple[str, float, int]:
    """Validate a ``cam.threshold_rule`` dict -> ``(type, bg_ratio, bins)``; per-image (:data:`THRESHOLD_RULES`)
    and split-level (:data:`SPLIT_RULES`) types are both accepted."""
    rule = dict(rule)
    kind = rule.pop('type', None)
    if kind not in THRESHOLD_RULES + SPLIT_RULES:
        raise ValueError(f'cam.threshold_rule type must be one of {THRESHOLD_RULES + SPLIT_RULES}, got {kind!r}')
    bg_ratio = float(rule.pop('bg_ratio', 0.5))
    bins = int(rule.pop('bins', 256))
    if rule:
        raise ValueError(f'cam.threshold_rule: unknown option(s) {sorted(rule)} for {kind!r} (bg_ratio, bins)')
    if not 0 < bg_ratio <= 1:
        raise ValueError(f'cam.threshold_rule bg_ratio must be in (0, 1] (bg below fg), got {bg_ratio}')
    return kind, bg_ratio, bins


def is_split_rule(rule: Optional[dict]) -> bool:
    """True for a ``cam.threshold_rule`` whose threshold comes from the whole split (:data:`SPLIT_RULES`)."""
    return rule is not None and parse_threshold_rule(rule)[0] in SPLIT_RULES


def image_thresholds(scores: Tensor, rule: Optional[dict], bg_thr: float, fg_thr: float) -> Tuple[Tensor, Tensor]:
    """Per-image ``(bg, fg)`` thresholds, each (N,), for score maps (N, H, W) under a per-image ``rule`` (None:
    the fixed ``bg_thr`` / ``fg_thr``; a split-level rule is refused: use :func:`split_threshold`)."""
    n = scores.shape[0]
    if rule is None:
        return scores.new_full((n, ), bg_thr), scores.new_full((n, ), fg_thr)
    kind, bg_ratio, bins = parse_threshold_rule(rule)
    if kind in CLASS_FLOOR_RULES:
        raise ValueError(f'cam.threshold_rule {kind!r} needs its class floors from a pass over the split first '
                         '(pseudo_label_generation.class_floor_thresholds): cut with rule otsu and those floors')
    if kind in SPLIT_RULES:
        raise ValueError(f'cam.threshold_rule {kind!r} is split-level: one threshold from every image of the split '
                         '(split_threshold), not one per image')
    fg = _RULE_FUNCTIONS[kind](scores, bins) if kind in _RULE_FUNCTIONS else scores.new_full((n, ), fg_thr)
    return fg * bg_ratio, fg


def agreement_counts(scores: Tensor, labels: Tensor, cut: Tensor, other_scores: Tensor, other_labels: Tensor,
                     other_cut: Tensor, num_classes: int, floors: Tensor) -> Tensor:
    """Pixel counts of how two maps of the same images agree on each class, for every floor.

    With ``R^k_f = {s >= max(cut, f)} & {labels == k}`` for each map: ``|R^k_f & R'^k_f|`` and
    ``|R^k_f | R'^k_f|``, summed over the images. The regions shrink as ``f`` grows, so one bincount per map does
    every floor: a pixel above its cut is in the regions of the floors ``<= s`` (of the intersection: ``<=
    min(s, s')`` where both maps give it class k); a reverse cumulative sum over the floors gives the counts.

    Args:
        scores, other_scores: (N, H, W) score maps in [0, 1] (e.g. the refined and the raw map).
        labels, other_labels: (N, H, W) long class of each pixel in 1..K (the argmax over the image's classes).
        cut, other_cut: (N,) per-image cuts (e.g. Otsu's).
        num_classes: K. floors: (T,) increasing floors.
    Returns:
        (K, T, 2) long: intersection and union counts of class k (row k - 1) at floor t.
    """
    floors = floors.to(scores.device, torch.float32)
    t = floors.numel()

    def at_floors(score, label, inside):  # pixels of each class in the region of each floor -> (K, T)
        above = torch.searchsorted(floors, score[inside].float().contiguous(), right=True)  # floors <= s: 0..T
        hist = torch.bincount(label[inside].long() * (t + 1) + above,
                              minlength=(num_classes + 1) * (t + 1)).view(num_classes + 1, t + 1)
        return hist.flip(1).cumsum(1).flip(1)[1:, 1:]  # floor index i counts the pixels with above > i

    mine = scores >= cut.to(scores.device)[:, None, None]
    other = other_scores >= other_cut.to(scores.device)[:, None, None]
    a, b = at_floors(scores, labels, mine), at_floors(other_scores, other_labels, other)
    inter = at_floors(torch.minimum(scores, other_scores), labels, mine & other & (labels == other_labels))
    return torch.stack([inter, a + b - inter], -1)


def best_agreement(counts: Tensor) -> Tuple[Tensor, Tensor]:
    """(K, T, 2) counts from :func:`agreement_counts` -> ``(index (K,), iou (K,))``: per class, the floor index
    of the highest pooled intersection over union and that IoU (the lowest floor on ties; a class neither map
    shows gets index 0 and IoU 0)."""
    iou = counts[..., 0].double() / counts[..., 1].double().clamp(min=1)
    best, idx = iou.max(1)
    return idx, best


def split_threshold(rule: str, histograms: Tensor) -> float:
    """One threshold for a whole split from its images' score histograms (N, bins) (pixel counts or fractions
    per bin on [0, 1], e.g. from :func:`score_histograms`): ``pooled_otsu`` or ``median_otsu`` (module docstring)."""
    if rule not in SPLIT_RULES or rule in CLASS_FLOOR_RULES:
        histogram_rules = tuple(r for r in SPLIT_RULES if r not in CLASS_FLOOR_RULES)
        raise ValueError(f'split threshold rule must be one of {histogram_rules}, got {rule!r}')
    hist = histograms.float()
    bins = hist.shape[1]
    centers = (torch.arange(bins, device=hist.device, dtype=torch.float32) + 0.5) / bins
    if rule == 'pooled_otsu':
        pooled = hist.sum(0, keepdim=True)
        return float(_otsu_cut(pooled / pooled.sum().clamp(min=1), centers)[0])
    cuts = _otsu_cut(hist / hist.sum(1, keepdim=True).clamp(min=1), centers)
    split = cuts[cuts < 1]  # maps with a split
    return float(split.median()) if split.numel() else 1.0


def score_histograms(scores: Tensor, bins: int = 256) -> Tensor:
    """(N, H, W) maps in [0, 1] -> (N, bins) pixel counts per bin (the input of :func:`split_threshold`)."""
    p, _ = _histograms(scores, bins)
    return p * scores[0].numel()
