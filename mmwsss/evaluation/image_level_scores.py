"""Image-level OK / NG scores of a defect segmenter, pure torch (no GT masks needed, only image labels).

Inputs per image: ``score`` (e.g. the highest defect probability of any pixel), ``defective`` (the image
label says NG) and ``decision`` (the segmenter's own NG call, e.g. "marks at least ``min_area`` pixels").

* ``auroc`` = P(score of a random NG image > score of a random OK image), ties counted 1/2 (Mann-Whitney).
* ``ap`` = sum_n (R_n - R_{n-1}) P_n over the distinct score thresholds, highest first (as scikit-learn).
* ``false_alarm_at_recall_r`` = share of OK images scoring >= t, with t the highest threshold that keeps at
  least a fraction r of the NG images (r = 1.0: every NG image found; r = 0.95).
* ``accuracy`` / ``ng_recall`` / ``ok_false_alarm_rate`` / ``f1`` (NG = positive) of the decisions.
* ``best_f1_threshold``: the score threshold (``score >= t`` is NG) with the highest F1 on these images, the
  calibration rule of the OK / NG decision (computed on the validation split, applied to new images).

Scores are ``None`` where undefined (e.g. AUROC without OK images).
"""
from typing import Dict, Optional

import torch
from torch import Tensor


def _round(v: Optional[float]) -> Optional[float]:
    return None if v is None else round(float(v), 4)


def auroc(score: Tensor, defective: Tensor) -> Optional[float]:
    pos, neg = score[defective], score[~defective]
    if not pos.numel() or not neg.numel():
        return None
    diff = pos[:, None] - neg[None, :]
    return float(((diff > 0).double() + 0.5 * (diff == 0).double()).mean())


def _counts_at_thresholds(score: Tensor, defective: Tensor):
    """(tp, fp) of ``score >= t`` for every distinct score ``t``, highest first (ties grouped)."""
    order = torch.argsort(score, descending=True, stable=True)
    s, y = score[order], defective[order].double()
    last = torch.ones_like(s, dtype=torch.bool)  # the last position of each distinct score
    last[:-1] = s[1:] != s[:-1]
    return y.cumsum(0)[last], (1 - y).cumsum(0)[last]


def roc_pr_points(score: Tensor, defective: Tensor) -> Dict[str, Tensor]:
    """Curve points over the distinct score thresholds, highest first: ROC ``fpr`` / ``tpr`` (from (0, 0)) and
    PR ``recall`` / ``precision``."""
    tp, fp = _counts_at_thresholds(score, defective.bool())
    pos, neg = max(float(defective.sum()), 1.0), max(float((~defective.bool()).sum()), 1.0)
    zero = tp.new_zeros(1)
    return dict(fpr=torch.cat([zero, fp / neg]), tpr=torch.cat([zero, tp / pos]), recall=tp / pos,
                precision=tp / (tp + fp))


def average_precision(score: Tensor, defective: Tensor) -> Optional[float]:
    if not defective.any():
        return None
    tp, fp = _counts_at_thresholds(score, defective)
    recall, precision = tp / defective.double().sum(), tp / (tp + fp)
    prev = torch.cat([recall.new_zeros(1), recall[:-1]])
    return float(((recall - prev) * precision).sum())


def false_alarm_at_recall(score: Tensor, defective: Tensor, recall: float) -> Optional[float]:
    pos, neg = score[defective], score[~defective]
    if not pos.numel() or not neg.numel():
        return None
    keep = max(1, int(torch.ceil(torch.tensor(recall * pos.numel() - 1e-9)).item()))
    thr = torch.sort(pos, descending=True).values[keep - 1]
    return float((neg >= thr).double().mean())


def best_f1_threshold(score: Tensor, defective: Tensor) -> Optional[float]:
    """The distinct score ``t`` maximising F1 of ``score >= t`` (ties: the highest ``t``, fewest false alarms)."""
    if not defective.any():
        return None
    cands = torch.unique(score)
    pred = score[None, :] >= cands[:, None]  # (T, N)
    tp = (pred & defective[None]).sum(1).double()
    f1 = 2 * tp / (pred.sum(1) + defective.sum()).double()
    best = f1.max()
    return float(cands[(f1 == best).nonzero().max()])


def f1_score(decision: Tensor, defective: Tensor) -> Optional[float]:
    tp = int((decision & defective).sum())
    denom = int(decision.sum()) + int(defective.sum())
    return 2 * tp / denom if denom else None


def image_level_scores(score: Tensor, defective: Tensor, decision: Tensor) -> Dict[str, Optional[float]]:
    """(N,) float scores, (N,) bool labels, (N,) bool decisions -> dict of fractions (see module doc)."""
    defective, decision = defective.bool(), decision.bool()
    n_pos, n_neg = int(defective.sum()), int((~defective).sum())
    return dict(
        images=int(score.numel()), defective=n_pos, defect_free=n_neg,
        auroc=_round(auroc(score, defective)),
        ap=_round(average_precision(score, defective)),
        false_alarm_at_recall_1=_round(false_alarm_at_recall(score, defective, 1.0)),
        false_alarm_at_recall_95=_round(false_alarm_at_recall(score, defective, 0.95)),
        accuracy=_round((decision == defective).double().mean()) if score.numel() else None,
        ng_recall=_round(decision[defective].double().mean()) if n_pos else None,
        ok_false_alarm_rate=_round(decision[~defective].double().mean()) if n_neg else None,
        f1=_round(f1_score(decision, defective)),
        best_f1_threshold=_round(best_f1_threshold(score, defective)))
