"""Image-level OK / NG scores (no masks needed): values computed by hand."""
import pytest
import torch

from mmwsss.evaluation import image_level_scores


def test_image_level_scores_by_hand():
    score = torch.tensor([0.9, 0.8, 0.3, 0.8, 0.1])
    defective = torch.tensor([True, True, True, False, False])
    decision = torch.tensor([True, True, False, True, False])
    out = image_level_scores(score, defective, decision)
    # AUROC: NG/OK pairs (.9,.8) (.9,.1) (.8,.8)=1/2 (.8,.1) (.3,.8)=0 (.3,.1) -> 4.5 / 6
    assert out['auroc'] == pytest.approx(0.75)
    # AP over the distinct thresholds .9 .8 .3 .1: recall 1/3 2/3 1 1, precision 1 2/3 3/4 3/5
    assert out['ap'] == pytest.approx(round(1 / 3 + 1 / 3 * 2 / 3 + 1 / 3 * 3 / 4, 4))
    # every NG image found needs threshold .3: the OK image at .8 is a false alarm (1 of 2)
    assert out['false_alarm_at_recall_1'] == 0.5 and out['false_alarm_at_recall_95'] == 0.5
    assert out['accuracy'] == 0.6 and out['ng_recall'] == pytest.approx(0.6667) and out['ok_false_alarm_rate'] == 0.5
    assert (out['images'], out['defective'], out['defect_free']) == (5, 3, 2)
    # F1 of the decisions: tp 2, 3 called NG, 3 NG -> 4 / 6; best threshold .3 (all 3 NG, 1 false alarm: 6/7)
    assert out['f1'] == pytest.approx(0.6667) and out['best_f1_threshold'] == pytest.approx(0.3)
    # recall 95 % of 20 NG images may drop the lowest one, and with it the false alarm
    s = torch.cat([torch.linspace(0.5, 1.0, 20), torch.tensor([0.51, 0.1])])  # OK .51: between the 2 lowest NG
    y = torch.tensor([True] * 20 + [False] * 2)
    perfect = image_level_scores(s, y, s > 0.2)
    assert perfect['false_alarm_at_recall_1'] == 0.5 and perfect['false_alarm_at_recall_95'] == 0.0
    only_ng = image_level_scores(torch.tensor([0.4]), torch.tensor([True]), torch.tensor([True]))
    assert only_ng['auroc'] is None and only_ng['ok_false_alarm_rate'] is None and only_ng['ap'] == 1.0


def test_image_level_metric_through_registry():
    from mmengine.registry import DefaultScope
    from mmseg.registry import METRICS
    with DefaultScope.overwrite_default_scope('mmseg'):
        metric = METRICS.build(dict(type='ImageLevelMetric', min_area=2))
    metric.dataset_meta = dict(classes=('background', 'scratch'))

    def sample(defect_logit, labels):
        logits = torch.zeros(2, 2, 2)
        logits[0] = 1.0  # background logit 1: p(defect) = sigmoid(defect - 1)
        logits[1] = torch.tensor(defect_logit)
        return dict(seg_logits=dict(data=logits), image_labels=labels)

    metric.process({}, [sample([[4.0, 0.0], [0.0, 0.0]], [1]),     # NG, 1 px above 0.5: called OK
                        sample([[2.0, 2.0], [0.0, 0.0]], [1]),     # NG, 2 px: called NG
                        sample([[-3.0, 0.0], [0.0, 1.5]], [])])    # OK, 1 px: called OK
    out = metric.evaluate(3)
    assert out['image/auroc'] == 1.0 and out['image/ng_recall'] == 0.5 and out['image/ok_false_alarm_rate'] == 0.0
    assert out['image/accuracy'] == pytest.approx(0.6667) and out['image/f1'] == pytest.approx(0.6667)
    # F1-optimal score threshold on these three: the lower NG score (sigmoid(1) = 0.731) catches both NG
    assert out['image/best_f1_threshold'] == pytest.approx(0.7311, abs=1e-4)
    with pytest.raises(ValueError, match='min_area must be >= 1'):
        METRICS.build(dict(type='mmseg.ImageLevelMetric', min_area=0))
