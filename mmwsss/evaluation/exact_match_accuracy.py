"""``ExactMatchAccuracy``: multi-label image accuracy (predicted label set == true label set)."""
from typing import List, Sequence

import torch
from mmengine.evaluator import BaseMetric
from mmpretrain.registry import METRICS
from mmpretrain.structures import label_to_onehot


@METRICS.register_module()
class ExactMatchAccuracy(BaseMetric):
    """Fraction of images whose thresholded prediction equals the label set exactly.

    For defect inspection this is the OK/NG-and-type accuracy: a defect-free image counts as correct only
    if no class fires. Also reports ``ok_ng_accuracy`` (any class vs none).

    Args:
        thr: score threshold for a positive prediction.
    """
    default_prefix = 'multi-label'

    def __init__(self, thr: float = 0.5, collect_device: str = 'cpu', prefix=None) -> None:
        if not 0.0 < thr < 1.0:
            raise ValueError(f'thr must be in (0, 1), got {thr}')
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.thr = thr

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            score = sample['pred_score'].cpu()
            target = label_to_onehot(sample['gt_label'], score.numel()).bool()
            self.results.append((score >= self.thr, target))

    def compute_metrics(self, results: List) -> dict:
        pred = torch.stack([r[0] for r in results])
        target = torch.stack([r[1] for r in results])
        exact = (pred == target).all(1).float().mean().item()
        ok_ng = (pred.any(1) == target.any(1)).float().mean().item()
        return dict(accuracy=100 * exact, ok_ng_accuracy=100 * ok_ng)
