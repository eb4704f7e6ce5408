import os

import cv2
import numpy as np
import pytest
import torch

from mmwsss.evaluation import confusion_matrix, iou_from_confusion, score_label_folder


def test_confusion_and_iou_by_hand():
    gt = torch.tensor([[0, 0, 1, 1], [0, 2, 2, 255]])
    pred = torch.tensor([[0, 1, 1, 255], [0, 2, 0, 2]])
    cm = confusion_matrix(pred, gt, 3)  # predicted 255 -> background; GT 255 dropped
    assert cm.tolist() == [[2, 1, 0], [1, 1, 0], [1, 0, 1]]
    iou = iou_from_confusion(cm)
    np.testing.assert_allclose(iou.numpy(), [2 / 5, 1 / 3, 1 / 2])
    cm_drop = confusion_matrix(pred, gt, 3, ignore_as=None)
    assert cm_drop.sum() == 6
    assert torch.isnan(iou_from_confusion(torch.zeros(2, 2, dtype=torch.long))).all()


def test_score_label_folder(tiny_synthetic, tmp_path):
    names = [line.split('\t')[0] for line in open(os.path.join(tiny_synthetic, 'image_labels', 'train.txt'))]
    for n in names:
        gt = cv2.imread(os.path.join(tiny_synthetic, 'ann_dir', 'train', n[:-4] + '.png'), cv2.IMREAD_UNCHANGED)
        cv2.imwrite(str(tmp_path / (n[:-4] + '.png')), gt)
    perfect = score_label_folder(str(tmp_path), tiny_synthetic, 'train', ['background', 'scratch', 'pit', 'stain'])
    assert perfect['miou'] == 1.0 and perfect['images'] == 24 and perfect['ignored_fraction'] == 0
    for n in names:
        cv2.imwrite(str(tmp_path / (n[:-4] + '.png')), np.zeros((64, 64), np.uint8))
    empty = score_label_folder(str(tmp_path), tiny_synthetic, 'train', ['background', 'scratch', 'pit', 'stain'])
    assert empty['defect_iou'] == {'scratch': 0.0, 'pit': 0.0, 'stain': 0.0}
    assert 0.8 < empty['iou']['background'] < 1.0
    # the GT with every defect pixel set to 255: as background the defects score 0, left out background is exact
    for n in names:
        gt = cv2.imread(os.path.join(tiny_synthetic, 'ann_dir', 'train', n[:-4] + '.png'), cv2.IMREAD_UNCHANGED)
        cv2.imwrite(str(tmp_path / (n[:-4] + '.png')), np.where(gt > 0, 255, gt).astype(np.uint8))
    banded = score_label_folder(str(tmp_path), tiny_synthetic, 'train', ['background', 'scratch', 'pit', 'stain'])
    assert banded['defect_miou'] == 0.0 and banded['iou']['background'] == empty['iou']['background']
    assert banded['decided']['iou']['background'] == 1.0 and 0 < banded['ignored_fraction'] < 0.2


def test_exact_match_accuracy_through_registry():
    from mmpretrain.registry import METRICS
    from mmpretrain.structures import DataSample
    metric = METRICS.build(dict(type='ExactMatchAccuracy', thr=0.5))
    samples = []
    for score, label in (([0.9, 0.1, 0.2], [0]), ([0.1, 0.2, 0.3], []), ([0.6, 0.7, 0.1], [0]),
                         ([0.2, 0.1, 0.1], [2])):
        s = DataSample().set_pred_score(torch.tensor(score)).set_gt_label(label)
        samples.append(s.to_dict())
    metric.process(None, samples)
    out = metric.evaluate(4)
    assert out['multi-label/accuracy'] == pytest.approx(50.0)
    assert out['multi-label/ok_ng_accuracy'] == pytest.approx(75.0)


def test_defect_iou_metric_per_class():
    from mmengine.structures import PixelData
    from mmseg.registry import METRICS
    from mmseg.structures import SegDataSample
    metric = METRICS.build(dict(type='DefectIoUMetric'))
    metric.dataset_meta = dict(classes=('background', 'a', 'b'))
    s = SegDataSample()
    s.pred_sem_seg = PixelData(data=torch.tensor([[[0, 1, 1, 2]]]))
    s.gt_sem_seg = PixelData(data=torch.tensor([[[0, 1, 0, 0]]]))
    metric.process(None, [s.to_dict()])
    out = metric.compute_metrics(metric.results)
    assert out['IoU.background'] == pytest.approx(100 / 3, abs=0.01)
    assert out['IoU.a'] == pytest.approx(50.0)
    assert out['IoU.b'] == pytest.approx(0.0)
    assert out['defect_mIoU'] == pytest.approx(25.0)


def test_threshold_sweep_by_hand():
    from mmwsss.evaluation import ThresholdSweep
    sweep = ThresholdSweep(num_classes=3, thresholds=[0.25, 0.5, 0.75])
    cams = torch.tensor([[[0.9, 0.6], [0.3, 0.1]], [[0.0, 0.7], [0.0, 0.0]]])  # (K=2, 2, 2)
    gt = torch.tensor([[1, 1], [0, 0]])
    sweep.update(cams, torch.tensor([True, False]), gt)  # class 2 not in the image label: ignored
    # t=.25: pred [[1,1],[1,0]]; t=.5: [[1,1],[0,0]] (perfect); t=.75: [[1,0],[0,0]]
    assert sweep.confusion[0].tolist() == [[1, 1, 0], [0, 2, 0], [0, 0, 0]]
    assert sweep.confusion[1].tolist() == [[2, 0, 0], [0, 2, 0], [0, 0, 0]]
    assert sweep.confusion[2].tolist() == [[2, 0, 0], [1, 1, 0], [0, 0, 0]]
    out = sweep.summary(['background', 'a', 'b'])
    assert out['best_threshold'] == 0.5 and out['defect_miou'] == 1.0 and len(out['curve']) == 3
    # upsampling to the GT size happens inside
    sweep.update(torch.ones(2, 1, 1), torch.tensor([True, False]), torch.ones(4, 4, dtype=torch.long))
    assert int(sweep.confusion[1].sum()) == 4 + 16


def test_binned_confusion_by_hand_and_equal_to_the_sweep():
    """Scores .1 .6 .9 .3 (label 1), GT 0 1 1 0, 4 bins: t = .5 -> [[2, 0], [0, 2]], t = .75 -> [[2, 0], [1, 1]];
    on random maps every grid threshold gives ThresholdSweep's confusion."""
    from mmwsss.evaluation import BinnedConfusion, ThresholdSweep
    binned = BinnedConfusion(num_classes=2, bins=4)
    label = torch.ones(2, 2, dtype=torch.long)
    binned.update(torch.tensor([[.1, .6], [.9, .3]]), label, torch.tensor([[0, 1], [1, 0]]))
    assert binned.confusion(0.5).tolist() == [[2, 0], [0, 2]]
    assert binned.confusion(0.75).tolist() == [[2, 0], [1, 1]]
    assert binned.confusion(0.0).tolist() == [[0, 2], [0, 2]] and binned.confusion(1.0).tolist() == [[2, 0], [2, 0]]
    g = torch.Generator().manual_seed(0)
    cams, gt = torch.rand(3, 8, 8, generator=g), torch.randint(0, 4, (8, 8), generator=g)
    mask = torch.tensor([True, False, True])
    grid = [k / 16 for k in range(1, 16)]
    sweep, binned = ThresholdSweep(4, grid), BinnedConfusion(4, bins=16)
    sweep.update(cams, mask, gt)
    score, arg = (cams * mask[:, None, None]).max(0)
    binned.update(score, arg + 1, gt)
    for i, t in enumerate(grid):
        assert torch.equal(binned.confusion(t), sweep.confusion[i]), t


def test_floor_sweep_by_hand_and_equal_to_a_direct_per_class_cut():
    """Scores .2 .6 .9 .4, labels 1 1 2 2, GT 0 1 2 0, cut .3, floors 0 / .5: floor 0 for class 1 and .5 for
    class 2 -> pixel 0 (.2 < .3) bg, 1 class 1, 2 class 2 (.9 >= .5), 3 bg (.4 < .5): all correct.
    On random maps, any floor per class gives the confusion of cutting each pixel at max(cut, floor[its class])."""
    from mmwsss.evaluation import FloorSweep
    from mmwsss.evaluation.segmentation_scores import confusion_matrix
    sweep = FloorSweep(num_classes=3, floors=[0.0, 0.5])
    score, label = torch.tensor([[.2, .6], [.9, .4]]), torch.tensor([[1, 1], [2, 2]])
    sweep.update(score, label, 0.3, torch.tensor([[0, 1], [2, 0]]))
    assert sweep.confusion_at(torch.tensor([0, 1])).tolist() == [[2, 0, 0], [0, 1, 0], [0, 0, 1]]
    assert sweep.confusion_at(torch.tensor([0, 0])).tolist() == [[1, 0, 1], [0, 1, 0], [0, 0, 1]]
    assert sweep.confusion_at(torch.tensor([1, 1])).tolist() == [[2, 0, 0], [0, 1, 0], [0, 0, 1]]
    with pytest.raises(ValueError, match='one floor per defect class'):
        sweep.confusion_at(torch.tensor([0]))
    g = torch.Generator().manual_seed(0)
    floors = [0.0, 0.25, 0.5, 0.75]
    sweep, direct = FloorSweep(4, floors), torch.zeros(4, 4, dtype=torch.long)
    index = torch.tensor([2, 0, 3])
    per_class = torch.tensor([0.0] + [floors[i] for i in index])
    for _ in range(3):
        score, label = torch.rand(6, 6, generator=g), torch.randint(1, 4, (6, 6), generator=g)
        gt, cut = torch.randint(0, 4, (6, 6), generator=g), float(torch.rand(1, generator=g)) * 0.5
        sweep.update(score, label, cut, gt)
        pred = torch.where(score >= per_class[label].clamp(min=cut), label, torch.zeros_like(label))
        direct += confusion_matrix(pred, gt, 4)
    assert torch.equal(sweep.confusion_at(index), direct)
