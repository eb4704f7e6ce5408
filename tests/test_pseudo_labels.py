import pytest
import torch

from mmwsss.cam import IGNORE_INDEX, cams_to_pseudo_labels


def test_rules_band_argmax_absent_and_negatives():
    cams = torch.zeros(3, 3, 2, 3)
    cams[0, 0] = torch.tensor([[0.9, 0.4, 0.1], [0.6, 0.0, 0.2]])
    cams[0, 1] = torch.tensor([[0.8, 0.7, 0.0], [0.0, 0.0, 0.0]])
    cams[0, 2] = 1.0  # class 3 not in the image label: must never appear
    cams[1] = 1.0  # defect-free image: all background regardless of maps
    cams[2, 2] = 0.55
    mask = torch.tensor([[1, 1, 0], [0, 0, 0], [0, 0, 1]], dtype=torch.bool)
    out = cams_to_pseudo_labels(cams, mask, bg_thr=0.3, fg_thr=0.5)
    assert out.dtype == torch.uint8
    expected0 = torch.tensor([[1, 2, 0], [1, 0, 0]], dtype=torch.uint8)
    expected0[0, 1] = 2  # 0.7 (class 2) beats 0.4 (class 1)
    assert torch.equal(out[0], expected0)
    assert torch.all(out[1] == 0)
    assert torch.all(out[2] == 3)
    out2 = cams_to_pseudo_labels(cams, mask, bg_thr=0.3, fg_thr=0.65)
    assert out2[0, 1, 0] == IGNORE_INDEX  # 0.6 lies in [0.3, 0.65)
    assert out2[0, 0, 1] == 2  # 0.7 >= 0.65
    assert out2[0, 0, 2] == 0
    assert 3 not in out2[0].unique().tolist()


def test_threshold_validation():
    with pytest.raises(ValueError, match='bg_thr'):
        cams_to_pseudo_labels(torch.zeros(1, 1, 2, 2), torch.ones(1, 1, dtype=torch.bool), 0.6, 0.5)
    with pytest.raises(ValueError, match='class_mask'):
        cams_to_pseudo_labels(torch.zeros(1, 2, 2, 2), torch.ones(1, 3, dtype=torch.bool), 0.3, 0.5)
