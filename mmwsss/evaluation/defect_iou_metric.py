"""``DefectIoUMetric``: mmseg's IoUMetric that also returns per-class IoU and the defect-only mean."""
from typing import Dict

import torch
from mmseg.evaluation import IoUMetric
from mmseg.registry import METRICS


@METRICS.register_module()
class DefectIoUMetric(IoUMetric):
    """Same accumulation and summary as :class:`mmseg.evaluation.IoUMetric` (percentages), plus
    ``IoU.<class>`` for every class and ``defect_mIoU``: the mean IoU over classes 1..K (background
    excluded; classes absent from GT and prediction are skipped)."""

    def compute_metrics(self, results: list) -> Dict[str, float]:
        metrics = super().compute_metrics(results)
        if self.format_only:
            return metrics
        intersect = sum(r[0] for r in results).double()
        union = sum(r[1] for r in results).double()
        iou = torch.where(union > 0, intersect / union.clamp(min=1), torch.full_like(union, float('nan')))
        for name, value in zip(self.dataset_meta['classes'], iou.tolist()):
            metrics[f'IoU.{name}'] = round(value * 100, 2)
        defect = iou[1:][~torch.isnan(iou[1:])]
        metrics['defect_mIoU'] = round(defect.mean().item() * 100, 2) if defect.numel() else float('nan')
        return metrics
