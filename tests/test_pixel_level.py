"""Pixel AUROC / AUPRO / F1-max (anomalib definitions) from score histograms, values worked out by hand."""
import math

import pytest
import torch


def logits_for(defect_prob):
    """(H, W) defect probabilities -> (2, H, W) logits with softmax(.)[0] = 1 - defect_prob."""
    d = torch.as_tensor(defect_prob, dtype=torch.float)
    return torch.stack([torch.log(1 - d), torch.log(d)])


def test_pixel_level_metric_by_hand():
    from mmengine.registry import DefaultScope
    from mmseg.registry import METRICS
    with DefaultScope.overwrite_default_scope('mmseg'):
        metric = METRICS.build(dict(type='PixelLevelMetric', bins=4))
    # image 1: region A = the two class-1 pixels (area 2), region B = the class-2 pixel (area 1)
    gt1 = torch.tensor([[1, 1, 0, 0], [0, 0, 0, 2]])
    d1 = [[0.9, 0.3, 0.6, 0.1], [0.1, 0.1, 0.2, 0.8]]
    # image 2: defect-free, one ignored pixel (dropped whatever its score)
    gt2 = torch.tensor([[0, 255]])
    d2 = [[0.95, 0.4]]
    metric.process(None, [dict(seg_logits=dict(data=logits_for(d)), gt_sem_seg=dict(data=g[None]))
                          for d, g in ((d1, gt1), (d2, gt2))])
    out = metric.evaluate(2)
    # bins of 1/4: defect pixels in bins {3, 1, 3}, background {2, 0, 0, 0, 0, 3}: P = 3, N = 6, R = 2.
    # thresholds 3/4, 2/4, 1/4, 0: (fpr, tpr) = (1/6, 2/3), (2/6, 2/3), (2/6, 1), (1, 1)
    assert out['pixel/auroc'] == pytest.approx(round(15 / 18, 4))  # = Mann-Whitney with in-bin ties 1/2
    # (fpr, pro) = (1/6, 3/4), (2/6, 3/4), (2/6, 1), (1, 1); area up to 0.3: 1/6 * 3/8 + (0.3 - 1/6) * 3/4
    assert out['pixel/aupro'] == pytest.approx(round((1 / 16 + (0.3 - 1 / 6) * 0.75) / 0.3, 4))
    assert out['pixel/f1_max'] == pytest.approx(0.75)  # at 1/4: TP 3, FP 2 -> 6 / 8
    assert out['pixel/defect_pixels'] == 3 and out['pixel/regions'] == 2


def test_perfect_and_useless_scores():
    from mmwsss.evaluation import pixel_histograms, pixel_level_scores
    gt = torch.tensor([[0, 1, 1], [0, 0, 0], [2, 0, 0]])
    perfect = pixel_level_scores(*pixel_histograms((gt > 0).float() * 0.99, gt))
    assert perfect['auroc'] == 1.0 and perfect['aupro'] == 1.0 and perfect['f1_max'] == 1.0
    constant = pixel_level_scores(*pixel_histograms(torch.full((3, 3), 0.5), gt))
    assert constant['auroc'] == 0.5  # one bin: every pair a tie
    assert math.isclose(constant['aupro'], 0.15)  # the diagonal (ties): area 0.3^2 / 2, over 0.3
    only_background = pixel_level_scores(*pixel_histograms(torch.rand(3, 3), torch.zeros(3, 3, dtype=torch.long)))
    assert only_background['auroc'] is None and only_background['aupro'] is None and only_background['f1_max'] is None


def test_needs_masks():
    from mmwsss.evaluation import PixelLevelMetric
    with pytest.raises(KeyError, match='PixelLevelMetric needs GT masks'):
        PixelLevelMetric().process(None, [dict(seg_logits=dict(data=logits_for([[0.5]])))])
    with pytest.raises(ValueError, match='bins >= 2 and 0 < fpr_limit <= 1'):
        PixelLevelMetric(fpr_limit=0)
