"""ErasureSelection: the classifier chooses between candidate regions by erasing them (cases computed by hand)."""
import pytest
import torch

from mmwsss.cam import build_cam
from mmwsss.cam.erasure_selection import ErasureSelection
from mmwsss.cam.pixel_adaptive_refinement import PixelAdaptiveRefinement, RefinedCAM
from .test_cam import tiny_classifier


def defect_detector(x):
    """Toy classifier: one class, logit = 8 * max(channel 0) - 4 (defect pixels 1, surface 0)."""
    return 8 * x[:, 0].flatten(1).amax(1, keepdim=True) - 4


def one_defect_image():
    x = torch.zeros(1, 3, 4, 4)
    x[0, :, :2, :2] = 1.0  # a 2x2 defect: erased to the image mean 0.25 -> logit -2 (score 0.12 < 0.5)
    return x


def region(*cells):
    m = torch.zeros(1, 1, 4, 4)
    for r, c in cells:
        m[0, 0, r, c] = 1.0
    return m


def test_smallest_region_that_removes_the_class():
    x, mask = one_defect_image(), torch.ones(1, 1, dtype=torch.bool)
    exact = region((0, 0), (0, 1), (1, 0), (1, 1))  # the defect: erasing it removes the class
    wide = exact.clone()
    wide[0, 0, 2:, :2] = 1.0  # the defect and 4 clean pixels: removes it too, twice the area
    out = ErasureSelection(defect_detector)(x, [wide, exact], mask)
    torch.testing.assert_close(out, exact)
    # a core that misses part of the defect leaves it visible (logit 4): the wider region wins
    core = region((0, 0))
    out = ErasureSelection(defect_detector)(x, [core, wide], mask)
    torch.testing.assert_close(out, wide)


def test_no_region_removes_the_class_lowest_score_wins():
    x, mask = one_defect_image(), torch.ones(1, 1, dtype=torch.bool)
    x[0, 0, 3, 3] = 0.9  # a second bright pixel: erasing the defect leaves logit 8 * 0.9 - 4 = 3.2
    a, b = region((0, 0)), region((0, 0), (0, 1), (1, 0), (1, 1))  # logit 4 vs 3.2 after erasure
    torch.testing.assert_close(ErasureSelection(defect_detector)(x, [a, b], mask), b)


def test_evidence_rule_takes_the_lowest_logit_whatever_the_size():
    x, mask = one_defect_image(), torch.ones(1, 1, dtype=torch.bool)
    exact = region((0, 0), (0, 1), (1, 0), (1, 1))
    everything = torch.ones(1, 1, 4, 4)  # a flat map: the whole image (Otsu t = 1); logit -2 as for exact
    # equal logits: argmin keeps the first candidate
    out = ErasureSelection(defect_detector, rule='evidence')(x, [exact, everything], mask)
    torch.testing.assert_close(out, exact)


def test_unrequested_maps_stay_zero_and_bad_options():
    x = one_defect_image().repeat(2, 1, 1, 1)
    mask = torch.tensor([[True], [False]])
    maps = region((0, 0), (0, 1), (1, 0), (1, 1)).repeat(2, 1, 1, 1)
    out = ErasureSelection(defect_detector)(x, [maps, maps], mask)
    assert out[1].abs().sum() == 0 and out[0].sum() == 4
    for kwargs in (dict(rule='area'), dict(score_thr=1.0), dict(batch_size=0)):
        with pytest.raises(ValueError, match='erasure'):
            ErasureSelection(defect_detector, **kwargs)
    with pytest.raises(ValueError, match='refine.erasure_rule'):
        PixelAdaptiveRefinement(combine='erasure', erasure_rule='area')


def test_build_cam_erasure_picks_raw_or_refined_per_map():
    model = tiny_classifier()
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(5))
    mask = torch.tensor([[True, False, True], [False, True, False]])
    par = dict(dilations=[1, 2], num_iter=2)
    cam = build_cam('gradcam', model, ['backbone.layer4'], refine=dict(combine='erasure', **par))
    assert isinstance(cam, RefinedCAM) and isinstance(cam.selection, ErasureSelection)
    raw = build_cam('gradcam', model, ['backbone.layer4'])(x, mask)
    refined = PixelAdaptiveRefinement(**par)(x, raw, mask)
    out = cam(x, mask)
    for n, k in mask.nonzero().tolist():
        assert torch.equal(out[n, k], raw[n, k]) or torch.equal(out[n, k], refined[n, k]), (n, k)
    assert torch.all(out[~mask] == 0)
