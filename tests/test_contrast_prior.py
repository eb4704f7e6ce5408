import pytest
import torch

from mmwsss.cam import IGNORE_INDEX
from mmwsss.cam.contrast_prior import ContrastPrior, local_contrast, quantiles


def spot_scene(spot_value):
    """20x20 surface at 100, a 2x2 spot at rows / cols 9-10, a 6x6 class-1 region (rows / cols 7-12) around it
    (9 % of the image), a 255 pixel at (0, 0)."""
    gray = torch.full((20, 20), 100.0)
    gray[9:11, 9:11] = spot_value
    label = torch.zeros(20, 20, dtype=torch.uint8)
    label[7:13, 7:13] = 1
    label[0, 0] = IGNORE_INDEX
    return label, gray


def test_local_contrast_by_hand():
    _, gray = spot_scene(10.0)
    d = local_contrast(gray, 3)
    # a spot pixel's 3x3 window holds 4 spot pixels: mean (5 * 100 + 4 * 10) / 9 = 60, d = 60 - 10
    assert torch.allclose(d[9:11, 9:11], torch.full((2, 2), 50.0))
    assert d[8, 9] == pytest.approx((7 * 100 + 2 * 10) / 9 - 100)  # an edge neighbour: -20
    assert d[8, 8] == pytest.approx((8 * 100 + 10) / 9 - 100)  # a corner neighbour: -10
    assert torch.equal(d[:5], torch.zeros(5, 20))  # flat surface
    assert torch.equal(local_contrast(torch.full((2, 7), 5.0), 31), torch.zeros(2, 7))  # kernel fits the image


@pytest.mark.parametrize('halo, halo_label', [('ignore', IGNORE_INDEX), ('background', 0)])
def test_small_dark_region_keeps_the_spot_and_leaves_band_and_outside_alone(halo, halo_label):
    label, gray = spot_scene(10.0)
    out = ContrastPrior(max_area=0.1, kernel=3, quantile=0.99, halo=halo)(label, gray)
    expected = torch.zeros(20, 20, dtype=torch.uint8)
    expected[7:13, 7:13] = halo_label
    expected[9:11, 9:11] = 1  # dark peak 50 beats the bright ring's 20: dark polarity, only the spot > 0
    expected[0, 0] = IGNORE_INDEX
    assert torch.equal(out, expected)


def test_bright_spot_takes_the_bright_polarity():
    label, gray = spot_scene(190.0)  # the spot lies 50 above its window mean, its ring 20 below theirs
    out = ContrastPrior(max_area=0.1, kernel=3)(label, gray)
    assert torch.equal(out == 1, spot_scene(10.0)[1] == 10.0)


def test_large_flat_and_defect_free_labels_are_unchanged():
    label, gray = spot_scene(10.0)
    prior = ContrastPrior(max_area=0.09, kernel=3)  # 36 / 400 = 0.09 is not below 0.09: a large region
    assert not prior.applies(label)
    assert torch.equal(prior(label, gray), label)
    flat = ContrastPrior(max_area=0.1, kernel=3)
    assert torch.equal(flat(label, torch.full((20, 20), 100.0)), label)  # nothing stands out: kept as it is
    empty = torch.zeros(20, 20, dtype=torch.uint8)
    assert not flat.applies(empty) and torch.equal(flat(empty, gray), empty)
    no_background = torch.ones(20, 20, dtype=torch.uint8)
    assert not ContrastPrior(max_area=1.0).applies(no_background)


def test_background_texture_sets_the_cut():
    label, gray = spot_scene(10.0)
    gray[2:4, 2:4] = 10.0  # the same spot on the background: 4 of its 363 pixels at dark contrast 50, the rest 0
    cut = quantiles(local_contrast(gray, 3).clamp(min=0)[label == 0][None], 0.99)
    assert float(cut) == pytest.approx(0.38 * 50, abs=1e-3)  # position 0.99 * 362 = 358.38: between a 0 and a 50
    out = ContrastPrior(max_area=0.1, kernel=3, quantile=0.99)(label, gray)
    assert torch.equal(out == 1, spot_scene(10.0)[1] == 10.0)  # the spot's 50 still stands out
    gray[2:4, 2:4] = 0.0  # a background spot darker than the defect (contrast 55.6): nothing stands out
    assert torch.equal(ContrastPrior(max_area=0.1, kernel=3, quantile=0.999)(label, gray), label)


def test_narrow_reports_the_region_class_and_its_peak_over_the_cut():
    label, gray = spot_scene(10.0)
    label[12, 12] = 2  # one class-2 pixel: the region is mostly class 1
    out, region_class, ratio = ContrastPrior(max_area=0.1, kernel=3).narrow(label, gray)
    assert region_class == 1 and ratio == pytest.approx(50.0)  # a flat background: the cut is floored at 1 grey level
    assert torch.equal(out == 1, spot_scene(10.0)[1] == 10.0)
    gray[2:4, 2:4] = 10.0  # background texture: cut 0.38 * 50 = 19 (test_background_texture_sets_the_cut)
    assert ContrastPrior(max_area=0.1, kernel=3).narrow(label, gray)[2] == pytest.approx(50 / 19, rel=1e-4)
    large = ContrastPrior(max_area=0.05, kernel=3)
    assert large.narrow(label, gray)[0] is label and large.narrow(label, gray)[1:] == (0, 0.0)


def test_narrowed_classes_take_the_median_peak_of_each_class():
    decided = ContrastPrior(min_peak=2.0).narrowed_classes({1: [3.0, 1.0, 2.5], 2: [1.2, 4.0], 3: [2.0]})
    assert decided == {1: dict(regions=3, median_peak=2.5, narrowed=True),
                       2: dict(regions=2, median_peak=2.6, narrowed=True),  # median of two: their mean
                       3: dict(regions=1, median_peak=2.0, narrowed=True)}  # the bound itself is narrowed
    assert not ContrastPrior(min_peak=2.7).narrowed_classes({2: [1.2, 4.0]})[2]['narrowed']
    assert ContrastPrior(min_peak=0.0).narrowed_classes({1: [0.0]})[1]['narrowed']


def test_arguments_are_validated():
    with pytest.raises(ValueError, match='max_area'):
        ContrastPrior(max_area=0)
    with pytest.raises(ValueError, match='odd'):
        ContrastPrior(kernel=4)
    with pytest.raises(ValueError, match='quantile'):
        ContrastPrior(quantile=1.0)
    with pytest.raises(ValueError, match='halo'):
        ContrastPrior(halo='drop')
    with pytest.raises(ValueError, match='min_peak'):
        ContrastPrior(min_peak=-1)
    with pytest.raises(ValueError, match='same size'):
        ContrastPrior()(torch.zeros(4, 4, dtype=torch.uint8), torch.zeros(4, 5))


def test_quantiles_match_torch_quantile():
    x = torch.rand(2, 1001, generator=torch.Generator().manual_seed(0))
    for q in (0.0, 0.5, 0.99, 0.999):
        assert torch.allclose(quantiles(x, q), torch.quantile(x, q, dim=1))
    assert torch.equal(quantiles(torch.tensor([[3.0]]), 0.99), torch.tensor([3.0]))
