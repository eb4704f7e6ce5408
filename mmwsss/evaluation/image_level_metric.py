"""``ImageLevelMetric`` (mmseg METRICS): OK / NG agreement of a segmenter's output with the image labels.

Needs no GT mask: each data sample carries its image-level classes (``image_labels`` in its metainfo; add
it to ``PackSegInputs(meta_keys=...)``, :func:`mmwsss.apis.runner_config.configure_evaluation` does). Per
image: defect probability ``d = 1 - p(background)`` per pixel, score = ``max d``; decision NG = at least
``min_area`` pixels with ``d >= score_thr`` (0.5 by default, the calibrated threshold in the pipeline; with
``min_area`` 1 the decision is exactly ``score >= score_thr``). Summary:
:func:`~mmwsss.evaluation.image_level_scores.image_level_scores`, keys prefixed ``image/`` (fractions).
"""
from typing import Dict, List, Sequence

import torch
from mmengine.evaluator import BaseMetric
from mmseg.registry import METRICS

from .image_level_scores import image_level_scores


@METRICS.register_module()
class ImageLevelMetric(BaseMetric):
    """Args:
        min_area: pixels of defect classes an image needs to be called NG.
        score_thr: defect probability a pixel needs to count towards ``min_area``.
    """

    default_prefix = 'image'

    def __init__(self, min_area: int = 1, score_thr: float = 0.5, **kwargs) -> None:
        super().__init__(**kwargs)
        if min_area < 1:
            raise ValueError(f'ImageLevelMetric min_area must be >= 1 pixel, got {min_area}')
        self.min_area = min_area
        self.score_thr = score_thr

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            if 'image_labels' not in sample:
                raise KeyError('ImageLevelMetric needs image_labels in the data samples: add it to the test '
                               "pipeline's PackSegInputs meta_keys")
            defect = 1 - sample['seg_logits']['data'].float().softmax(0)[0]
            area = int((defect >= self.score_thr).sum())
            self.results.append((float(defect.max()), bool(sample['image_labels']), area >= self.min_area))

    def compute_metrics(self, results: List[tuple]) -> Dict[str, float]:
        score = torch.tensor([r[0] for r in results], dtype=torch.double)
        defective = torch.tensor([r[1] for r in results], dtype=torch.bool)
        decision = torch.tensor([r[2] for r in results], dtype=torch.bool)
        return {k: v for k, v in image_level_scores(score, defective, decision).items() if v is not None}
