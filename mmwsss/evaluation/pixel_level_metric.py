"""``PixelLevelMetric`` (mmseg METRICS): anomalib-style pixel AUROC, AUPRO and F1-max of a segmenter's output.

Needs GT masks (``gt_sem_seg`` in the data samples). Per image the defect probability
``d = 1 - p(background)`` and the GT are reduced to score histograms
(:func:`~mmwsss.evaluation.pixel_level_scores.pixel_histograms`); the split's scores come from their sums
(:func:`~mmwsss.evaluation.pixel_level_scores.pixel_level_scores`), keys prefixed ``pixel/`` (scores in [0, 1];
``defect_pixels`` and ``regions`` are counts). Needs a softmax head (C >= 2 channels, channel 0 background).
"""
from typing import Dict, List, Sequence

import torch
from mmengine.evaluator import BaseMetric
from mmseg.registry import METRICS

from .pixel_level_scores import DEFAULT_BINS, pixel_histograms, pixel_level_scores


@METRICS.register_module()
class PixelLevelMetric(BaseMetric):
    """Args:
        bins: score histogram bins (threshold resolution 1 / bins).
        fpr_limit: false-positive-rate limit of AUPRO (anomalib: 0.3).
        ignore_index: GT label of ignored pixels.
    """

    default_prefix = 'pixel'

    def __init__(self, bins: int = DEFAULT_BINS, fpr_limit: float = 0.3, ignore_index: int = 255, **kwargs) -> None:
        super().__init__(**kwargs)
        if bins < 2 or not 0.0 < fpr_limit <= 1.0:
            raise ValueError(f'PixelLevelMetric needs bins >= 2 and 0 < fpr_limit <= 1, got {bins}, {fpr_limit}')
        self.bins, self.fpr_limit, self.ignore_index = bins, fpr_limit, ignore_index

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            if 'gt_sem_seg' not in sample:
                raise KeyError('PixelLevelMetric needs GT masks (gt_sem_seg): keep LoadAnnotations in the test '
                               'pipeline, or drop the metric for data without masks')
            logits = sample['seg_logits']['data']
            if logits.shape[0] < 2:
                raise ValueError('PixelLevelMetric needs C >= 2 logits (softmax, channel 0 = background), got '
                                 f'{logits.shape[0]}: a one-channel (sigmoid) head is not supported')
            defect = 1 - logits.float().softmax(0)[0]
            gt = sample['gt_sem_seg']['data'].squeeze(0).to(defect.device)
            self.results.append(pixel_histograms(defect, gt, self.bins, self.ignore_index))

    def compute_metrics(self, results: List[tuple]) -> Dict[str, float]:
        neg, pos, pro = (torch.stack([r[i] for r in results]).sum(0) for i in range(3))
        scores = pixel_level_scores(neg, pos, pro, sum(r[3] for r in results), self.fpr_limit)
        return {k: v for k, v in scores.items() if v is not None}
