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


def test_split_thresholds_are_otsu_of_the_pooled_maps_and_the_median_cut():
    """pooled_otsu = Otsu of all maps as one image; median_otsu = the median of the per-image Otsu cuts, a flat map
    (no split) left out; an unknown rule is refused."""
    from mmwsss.cam.threshold_rules import otsu_thresholds, score_histograms, split_threshold
    g = torch.Generator().manual_seed(0)
    maps = torch.cat([torch.rand(3, 16, 16, generator=g)**(k + 1) for k in range(3)] + [torch.zeros(1, 16, 16)])
    hist = score_histograms(maps)
    assert hist.shape == (10, 256) and hist.sum(1).tolist() == [256.0] * 10
    pooled = otsu_thresholds(maps.permute(1, 0, 2).reshape(1, 16, -1))[0]
    assert split_threshold('pooled_otsu', hist) == pytest.approx(float(pooled))
    cuts = otsu_thresholds(maps)
    assert cuts[-1] == 1.0  # the flat map
    assert split_threshold('median_otsu', hist) == pytest.approx(float(cuts[:-1].median()))
    with pytest.raises(ValueError, match='split threshold rule'):
        split_threshold('otsu', hist)


def test_otsu_thresholds_by_hand_and_per_image_bands():
    from mmwsss.cam import image_thresholds, otsu_thresholds

    # image 1: three pixels at 0.1, two at 0.9 -> the cut lies between them; image 2 constant 0.3
    a = torch.tensor([[[0.1, 0.1, 0.1, 0.9, 0.9]], [[0.3, 0.3, 0.3, 0.3, 0.3]]])
    t = otsu_thresholds(a, bins=10)
    assert t[0].item() == pytest.approx(0.2)  # upper edge of the 0.1 bin: 0.1 below, 0.9 above
    assert t[1].item() > 0.3  # a constant map stays in one class (all below)
    # a three-level map: Otsu separates the high mode when it is far from the other two
    b = torch.tensor([[[0.0] * 6 + [0.1] * 2 + [1.0] * 2]])
    assert otsu_thresholds(b, bins=10)[0].item() == pytest.approx(0.2)
    bg, fg = image_thresholds(a, dict(type='otsu', bg_ratio=0.5, bins=10), 0.05, 0.1)
    assert fg.tolist() == pytest.approx([0.2, t[1].item()])  # defect from the Otsu cut up
    assert bg.tolist() == pytest.approx([0.1, 0.5 * t[1].item()])  # background below half of it
    with pytest.raises(ValueError, match=r'bg_ratio must be in \(0, 1\]'):
        image_thresholds(a, dict(type='otsu', bg_ratio=1.5), 0.05, 0.1)
    fixed = image_thresholds(a, None, 0.05, 0.1)
    assert fixed[0].tolist() == pytest.approx([0.05, 0.05]) and fixed[1].tolist() == pytest.approx([0.1, 0.1])
    with pytest.raises(ValueError, match='type must be one of'):
        image_thresholds(a, dict(type='triangle'), 0.05, 0.1)
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['ratio'\]"):
        image_thresholds(a, dict(type='otsu', ratio=2), 0.05, 0.1)


def test_min_error_thresholds_by_hand_and_against_a_direct_sweep():
    import math

    from mmwsss.cam import image_thresholds, min_error_thresholds, otsu_thresholds

    # bins of 0.1, floor 1 / 1200: eight pixels at 0.05, one at 0.15, one at 0.95.
    # cut after bin 0: J = .8 ln(f) + .2 ln(.16 + f) - 2 (.8 ln .8 + .2 ln .2) = -5.04;
    # cut after bin 1: J = .9 ln(.000988 + f) + .1 ln(f) - 2 (.9 ln .9 + .1 ln .1) = -5.74 (the minimum)
    a = torch.tensor([[[0.05] * 8 + [0.15, 0.95]], [[0.3] * 10]])
    t = min_error_thresholds(a, bins=10)
    assert t[0].item() == pytest.approx(0.2) and t[1].item() == 1.0  # a constant map: no split, all below

    # a wide dark background (a clamped Gaussian) and a small bright defect with a halo: the minimum-error cut
    # is the one a direct sweep of J finds, and it keeps far less of the image than Otsu's cut
    g = torch.Generator().manual_seed(0)
    m = (torch.randn(1, 60, 60, generator=g) * 0.08 + 0.15).clamp(0, 1)
    m[0, :12, :12] = (torch.randn(12, 12, generator=g) * 0.1 + 0.45).clamp(0, 1)
    m[0, 3:6, 3:6] = 0.9
    bins = 32
    idx = (m.flatten() * bins).long().clamp(max=bins - 1)
    centre = (idx.double() + 0.5) / bins  # each pixel at its bin's centre, as the histogram sees it
    best, best_k = math.inf, None
    for k in range(bins - 1):
        lo, hi = centre[idx <= k], centre[idx > k]
        if len(lo) == 0 or len(hi) == 0:
            continue
        w0, w1 = len(lo) / m.numel(), len(hi) / m.numel()
        v0 = lo.var(unbiased=False).item() + 1 / (12 * bins**2)
        v1 = hi.var(unbiased=False).item() + 1 / (12 * bins**2)
        j = w0 * math.log(v0) + w1 * math.log(v1) - 2 * (w0 * math.log(w0) + w1 * math.log(w1))
        if j < best - 1e-9:
            best, best_k = j, k
    t = min_error_thresholds(m, bins=bins)
    assert t.item() == pytest.approx((best_k + 1) / bins)
    kept = (m >= t).float().mean().item()
    assert kept < 0.06 < (m >= otsu_thresholds(m, bins=bins)).float().mean().item()
    bg, fg = image_thresholds(m, dict(type='min_error', bg_ratio=0.5, bins=bins), 0.05, 0.1)
    assert fg.item() == pytest.approx(t.item()) and bg.item() == pytest.approx(0.5 * t.item())


def test_pseudo_labels_take_per_image_thresholds():
    cams = torch.tensor([[[[0.2, 0.5, 0.9]]], [[[0.2, 0.5, 0.9]]]])
    mask = torch.tensor([[True], [True]])
    out = cams_to_pseudo_labels(cams, mask, torch.tensor([0.1, 0.6]), torch.tensor([0.4, 0.8]))
    assert out.tolist() == [[[255, 1, 1]], [[0, 0, 1]]]


def test_agreement_labels_by_hand():
    from mmwsss.cam import agreement_labels
    from mmwsss.cam.pixel_adaptive_refinement import PixelAdaptiveRefinement
    a = torch.tensor([[0, 1, 1], [2, 255, 0]], dtype=torch.uint8)
    b = torch.tensor([[0, 1, 0], [1, 255, 255]], dtype=torch.uint8)
    assert agreement_labels(a, b).tolist() == [[0, 1, 255], [255, 255, 255]]
    with pytest.raises(ValueError, match='same shape'):
        agreement_labels(a, b[:1])
    with pytest.raises(ValueError, match='refine.labels'):
        PixelAdaptiveRefinement(labels='raw')


def test_pseudo_labels_take_per_class_thresholds():
    """(N, K) thresholds: each pixel is cut at the thresholds of its own (argmax) class."""
    cams = torch.tensor([[[[0.3, 0.6, 0.0]], [[0.0, 0.0, 0.6]]]])  # class 1 left, class 2 right
    mask = torch.tensor([[True, True]])
    out = cams_to_pseudo_labels(cams, mask, torch.tensor([[0.1, 0.25]]), torch.tensor([[0.2, 0.5]]))
    assert out.tolist() == [[[1, 1, 2]]]
    out = cams_to_pseudo_labels(cams, mask, torch.tensor([[0.1, 0.4]]), torch.tensor([[0.5, 0.8]]))
    assert out.tolist() == [[[255, 1, 255]]]
    with pytest.raises(ValueError, match=r'\(N, K\)'):
        cams_to_pseudo_labels(cams, mask, torch.zeros(1, 3), torch.ones(1, 3))


def test_agreement_counts_and_floors_by_hand():
    """Two 1 x 4 maps of one image, class 1 everywhere; cuts 0.1 (a) and 0.2 (b); floors 0, 0.5, 0.8.
    a = [0.2, 0.6, 0.9, 1.0], b = [0.3, 0.4, 0.85, 1.0].
    floor 0: a keeps 4 pixels (>= 0.1), b 4 (>= 0.2): inter 4, union 4.
    floor 0.5: a keeps {0.6, 0.9, 1.0} = 3, b {0.85, 1.0} = 2: inter 2, union 3.
    floor 0.8: a {0.9, 1.0}, b {0.85, 1.0}: inter 2, union 2.
    Class 2 never appears: zero counts, floor 0 (the lowest), IoU 0."""
    from mmwsss.cam.threshold_rules import agreement_counts, best_agreement
    a = torch.tensor([[[0.2, 0.6, 0.9, 1.0]]])
    b = torch.tensor([[[0.3, 0.4, 0.85, 1.0]]])
    lab = torch.ones(1, 1, 4, dtype=torch.long)
    floors = torch.tensor([0.0, 0.5, 0.8])
    counts = agreement_counts(a, lab, torch.tensor([0.1]), b, lab, torch.tensor([0.2]), 2, floors)
    assert counts.shape == (2, 3, 2)
    assert counts[0].tolist() == [[4, 4], [2, 3], [2, 2]] and counts[1].tolist() == [[0, 0]] * 3
    index, iou = best_agreement(counts)
    assert index.tolist() == [0, 0] and iou.tolist() == [1.0, 0.0]  # a tie at 1.0 takes the lowest floor
    # pixels of another class do not count for class 1: b's third pixel is class 2 -> class 1 loses it
    lab_b = torch.tensor([[[1, 1, 2, 1]]])
    counts = agreement_counts(a, lab, torch.tensor([0.1]), b, lab_b, torch.tensor([0.2]), 2, floors)
    assert counts[0].tolist() == [[3, 4], [1, 3], [1, 2]] and counts[1].tolist() == [[0, 1], [0, 1], [0, 1]]
    index, iou = best_agreement(counts)
    assert index.tolist() == [0, 0] and iou[0].item() == pytest.approx(0.75)
    # a halo where the maps disagree: the floor rises to where they agree
    a = torch.tensor([[[0.15, 0.3, 0.45, 0.9, 1.0]]])
    b = torch.tensor([[[0.0, 0.0, 0.0, 0.95, 1.0]]])
    lab = torch.ones(1, 1, 5, dtype=torch.long)
    counts = agreement_counts(a, lab, torch.tensor([0.1]), b, lab, torch.tensor([0.1]), 1, floors)
    index, iou = best_agreement(counts)  # floor 0: 2 / 5; 0.5: 2 / 2; 0.8: 2 / 2 (tie -> 0.5)
    assert index.tolist() == [1] and iou.tolist() == [1.0]


def test_agreement_counts_equal_a_brute_force_count_at_every_floor():
    """The one-bincount counts equal masks built floor by floor on random maps of two images and three classes."""
    from mmwsss.cam.threshold_rules import FLOOR_GRID, agreement_counts
    g = torch.Generator().manual_seed(0)
    s, r = torch.rand(2, 7, 9, generator=g), torch.rand(2, 7, 9, generator=g)
    ls, lr = torch.randint(1, 4, (2, 7, 9), generator=g), torch.randint(1, 4, (2, 7, 9), generator=g)
    cs, cr = torch.tensor([0.2, 0.4]), torch.tensor([0.3, 0.1])
    floors = torch.tensor(FLOOR_GRID)
    counts = agreement_counts(s, ls, cs, r, lr, cr, 3, floors)
    for ti, f in enumerate(FLOOR_GRID):
        for k in (1, 2, 3):
            a = (s >= torch.clamp(cs, min=f)[:, None, None]) & (ls == k)
            b = (r >= torch.clamp(cr, min=f)[:, None, None]) & (lr == k)
            assert counts[k - 1, ti].tolist() == [int((a & b).sum()), int((a | b).sum())], (f, k)


def test_label_image_raises_each_class_cut_to_its_floor_and_keeps_the_background_cut():
    """Cut t = 0.2 (rule 'fixed', bg_ratio 0.5), floors 0 / 0.6: class 1 is labelled from 0.2, class 2 from 0.6;
    background stays below 0.1 for both (a floor makes pixels "don't know", never background). Scores .9 .15 .05
    (class 1) and .45 .08 .8 (class 2): labels 1, 255, 0, 255, 0, 2; the returned fg is each pixel's own cut."""
    from mmwsss.apis.pseudo_label_generation import _label_image
    cams = torch.tensor([[[[0.9, 0.15, 0.05, 0.0, 0.0, 0.0]], [[0.0, 0.0, 0.0, 0.45, 0.08, 0.8]]]])
    mask = torch.tensor([[True, True]])
    label, scores, bg, fg = _label_image(cams, mask, (1, 6), dict(type='fixed', bg_ratio=0.5), 0.1, 0.2,
                                         torch.tensor([0.0, 0.6]))
    assert label.tolist() == [[1, 255, 0, 255, 0, 2]]
    assert bg == pytest.approx(0.1) and fg[0].tolist() == pytest.approx([0.2, 0.2, 0.2, 0.6, 0.6, 0.6])
    assert scores[0].tolist() == pytest.approx([0.9, 0.15, 0.05, 0.45, 0.08, 0.8])
