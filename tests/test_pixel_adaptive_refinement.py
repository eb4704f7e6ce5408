"""PixelAdaptiveRefinement: propagation by hand, edges respected, only requested maps, wired through build_cam."""
import pytest
import torch

from mmwsss.cam import build_cam
from mmwsss.cam.pixel_adaptive_refinement import PixelAdaptiveRefinement, RefinedCAM
from .test_cam import tiny_classifier


def test_one_step_on_a_flat_image_by_hand():
    # flat image: appearance weights uniform (1/8 per neighbour at dilation 1), no distance term (w2 = 0);
    # replicate padding: every pixel of the 3x3 border has the centre among its 8 neighbours once, the centre none
    par = PixelAdaptiveRefinement(dilations=[1], num_iter=1, w2=0.0)
    maps = torch.zeros(1, 1, 3, 3)
    maps[0, 0, 1, 1] = 1.0
    out = par.propagate(maps, par.affinity(torch.ones(1, 3, 3, 3)))
    expected = torch.full((3, 3), 0.125)
    expected[1, 1] = 0.0
    torch.testing.assert_close(out[0, 0], expected)


def test_affinity_rows_sum_to_one_plus_w2():
    par = PixelAdaptiveRefinement(dilations=[1, 2], w2=0.01)
    aff = par.affinity(torch.randn(2, 3, 9, 7, generator=torch.Generator().manual_seed(0)))
    assert aff.shape == (2, 16, 9, 7)
    torch.testing.assert_close(aff.sum(1), torch.full((2, 9, 7), 1.01))


def test_map_stops_at_an_image_edge():
    image = torch.zeros(1, 1, 16, 16)
    image[..., 8:] = 100.0  # a vertical edge between columns 7 and 8
    maps = torch.zeros(1, 1, 16, 16)
    maps[..., 4:10] = 1.0  # a blob leaking two columns across the edge
    out = PixelAdaptiveRefinement(dilations=[1, 2, 4], num_iter=10)(image, maps, torch.ones(1, 1, dtype=torch.bool))
    row = out[0, 0, 8]
    assert row[:8].min() > 0.8, row  # spread over the flat side of the blob
    assert row[8:].max() < 0.15, row  # pulled back from the other side


def test_only_requested_maps_and_range():
    g = torch.Generator().manual_seed(1)
    maps, image = torch.rand(2, 3, 8, 8, generator=g), torch.rand(2, 3, 8, 8, generator=g)
    mask = torch.tensor([[True, False, False], [False, False, True]])
    out = PixelAdaptiveRefinement(dilations=[1, 2], num_iter=3)(image, maps, mask)
    assert torch.all(out[~mask] == 0)
    assert torch.allclose(out[mask].flatten(1).amax(1), torch.ones(2)) and out.min() >= 0


def test_build_cam_refine_option():
    model = tiny_classifier()
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    mask = torch.tensor([[True, False, False], [False, True, True]])
    cam = build_cam('gradcam', model, ['backbone.layer4'], refine=dict(dilations=[1, 2], num_iter=2))
    assert isinstance(cam, RefinedCAM) and cam.target_layer_names == ['backbone.layer4']
    plain = build_cam('gradcam', model, ['backbone.layer4'])(x, mask)
    refined = cam(x, mask)
    expected = PixelAdaptiveRefinement(dilations=[1, 2], num_iter=2)(x, plain, mask)
    torch.testing.assert_close(refined, expected)
    assert not torch.allclose(refined, plain)


@pytest.mark.parametrize('kwargs', [dict(dilations=[]), dict(dilations=[0]), dict(num_iter=0), dict(w1=0.0),
                                    dict(w2=-1.0), dict(combine='mean')])
def test_bad_options(kwargs):
    with pytest.raises(ValueError, match='refine'):
        PixelAdaptiveRefinement(**kwargs)


def test_extent_adaptive_keeps_small_regions_and_refines_large_ones():
    g = torch.Generator().manual_seed(3)
    image = torch.rand(1, 3, 16, 16, generator=g)
    mask = torch.ones(1, 1, dtype=torch.bool)
    par = dict(dilations=[1, 2], num_iter=3)
    adaptive = PixelAdaptiveRefinement(combine='extent', **par)  # reach = pi * 2^2 / 256 = 4.9 % of the image
    # no pixel >= 0.5: extent 0, beta 0 -> the raw map (min-max scaled)
    small = torch.rand(1, 1, 16, 16, generator=g) * 0.4
    small[0, 0, 0, 0] = 0.0
    torch.testing.assert_close(adaptive(image, small, mask), small / small.max())
    # half the image >= 0.5: extent 0.5 > reach, beta 1 -> the refined map
    large = torch.zeros(1, 1, 16, 16)
    large[..., :8] = 1.0
    torch.testing.assert_close(adaptive(image, large, mask), PixelAdaptiveRefinement(**par)(image, large, mask))


def test_combine_max_keeps_the_raw_peaks():
    g = torch.Generator().manual_seed(4)
    image, maps = torch.rand(1, 3, 12, 12, generator=g), torch.rand(1, 1, 12, 12, generator=g)
    maps = (maps - maps.min()) / (maps.max() - maps.min())  # a CAM: in [0, 1]
    mask = torch.ones(1, 1, dtype=torch.bool)
    par = dict(dilations=[1, 2], num_iter=3)
    refined = PixelAdaptiveRefinement(**par)(image, maps, mask)
    both = torch.maximum(maps, refined)
    expected = (both - both.min()) / (both.max() - both.min())
    torch.testing.assert_close(PixelAdaptiveRefinement(combine='max', **par)(image, maps, mask), expected)


def test_combine_geomean_keeps_only_what_raw_and_refined_agree_on():
    g = torch.Generator().manual_seed(6)
    image, maps = torch.rand(1, 3, 12, 12, generator=g), torch.rand(1, 1, 12, 12, generator=g)
    maps = (maps - maps.min()) / (maps.max() - maps.min())
    mask = torch.ones(1, 1, dtype=torch.bool)
    par = dict(dilations=[1, 2], num_iter=3)
    refined = PixelAdaptiveRefinement(**par)(image, maps, mask)
    agree = (maps * refined).sqrt()
    expected = (agree - agree.min()) / (agree.max() - agree.min())
    torch.testing.assert_close(PixelAdaptiveRefinement(combine='geomean', **par)(image, maps, mask), expected)
    # a pixel the raw map never lit stays at zero however far the refinement spread into it
    maps[0, 0, 0, 0] = 0.0
    assert PixelAdaptiveRefinement(combine='geomean', **par)(image, maps, mask)[0, 0, 0, 0] == 0.0
