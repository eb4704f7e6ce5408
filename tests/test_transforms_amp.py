"""Segmenter recipe pieces: RandomRot90, RandomRescale, LimitLongestSide, DefectCenteredCrop (mmseg TRANSFORMS), bf16
--amp on the CPU."""
import numpy as np
import pytest
import torch


def build_transform(cfg):
    from mmengine.registry import DefaultScope
    from mmseg.registry import TRANSFORMS
    with DefaultScope.overwrite_default_scope('mmseg'):
        return TRANSFORMS.build(cfg)


def sample():
    img = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    mask = np.array([[0, 1, 2], [3, 4, 5]], np.uint8)
    return dict(img=img, gt_seg_map=mask, seg_fields=['gt_seg_map'], img_shape=(2, 3))


def test_random_rot90_turns_image_and_mask_together():
    rot = build_transform(dict(type='RandomRot90', prob=1.0))
    seen = set()
    for seed in range(20):
        np.random.seed(seed)
        src = sample()
        out = rot(dict(src))
        k = next(k for k in (1, 2, 3) if np.array_equal(out['img'], np.rot90(src['img'], k)))
        assert np.array_equal(out['gt_seg_map'], np.rot90(src['gt_seg_map'], k))
        assert out['img_shape'] == out['img'].shape[:2]
        seen.add(k)
    assert seen == {1, 2, 3}
    untouched = build_transform(dict(type='RandomRot90', prob=0.0))(sample())
    assert np.array_equal(untouched['img'], sample()['img'])
    with pytest.raises(ValueError, match='prob must be in'):
        build_transform(dict(type='RandomRot90', prob=2))


def test_random_rescale_is_relative_to_the_image():
    out = build_transform(dict(type='RandomRescale', ratio_range=(2.0, 2.0)))(sample())
    assert out['img'].shape == (4, 6, 3) and out['img_shape'] == (4, 6) and out['scale_factor'] == (2.0, 2.0)
    assert np.array_equal(out['gt_seg_map'], np.repeat(np.repeat(sample()['gt_seg_map'], 2, 0), 2, 1))  # nearest
    with pytest.raises(ValueError, match='0 < low <= high'):
        build_transform(dict(type='RandomRescale', ratio_range=(1.5, 1.0)))


def test_limit_longest_side_only_scales_down():
    limit = build_transform(dict(type='LimitLongestSide', max_side=3))
    fits = limit(sample())  # 2 x 3: fits, untouched (no scale_factor written)
    assert np.array_equal(fits['img'], sample()['img']) and 'scale_factor' not in fits
    # 4 x 8 image, max side 4: s = 4 / 8 -> 2 x 4; the mask halves by nearest neighbour
    img = np.zeros((4, 8, 3), np.uint8)
    mask = np.kron(np.array([[1, 2, 3, 4], [5, 6, 7, 8]], np.uint8), np.ones((2, 2), np.uint8))
    out = build_transform(dict(type='LimitLongestSide', max_side=4))(
        dict(img=img, gt_seg_map=mask, seg_fields=['gt_seg_map'], img_shape=(4, 8)))
    assert out['img'].shape == (2, 4, 3) and out['img_shape'] == (2, 4) and out['scale_factor'] == (0.5, 0.5)
    assert out['gt_seg_map'].tolist() == [[1, 2, 3, 4], [5, 6, 7, 8]]
    # an image alone (the inferencer's path), sides that do not divide: 5 x 7, max 4 -> s = 4/7: 3 x 4
    alone = build_transform(dict(type='LimitLongestSide', max_side=4))(dict(img=np.zeros((5, 7, 3), np.uint8)))
    assert alone['img'].shape == (3, 4, 3) and alone['img_shape'] == (3, 4)
    for bad in (0, None, 2.5, True):
        with pytest.raises(ValueError, match='positive integer'):
            build_transform(dict(type='LimitLongestSide', max_side=bad))


def test_defect_centered_crop_always_holds_the_rare_defect():
    # 10 x 12 map, one blowhole pixel at (7, 9); 4 x 5 crops centred on it must contain it, and the corner
    # ranges are top in [4, 6], left in [5, 7] (as the docstring's formula gives).
    seg = np.zeros((10, 12), np.uint8)
    seg[7, 9] = 1
    seg[0, :] = 255  # ignored pixels are never a centre
    img = np.arange(10 * 12 * 3, dtype=np.int32).reshape(10, 12, 3)
    crop = build_transform(dict(type='DefectCenteredCrop', crop_size=(4, 5), prob=1.0))
    tops, lefts = set(), set()
    for seed in range(60):
        np.random.seed(seed)
        out = crop(dict(img=img, gt_seg_map=seg, seg_fields=['gt_seg_map'], img_shape=(10, 12)))
        assert out['img'].shape == (4, 5, 3) and out['img_shape'] == (4, 5)
        assert (out['gt_seg_map'] == 1).sum() == 1
        top, left = divmod(int(out['img'][0, 0, 0]) // 3, 12)
        assert np.array_equal(out['gt_seg_map'], seg[top:top + 4, left:left + 5])
        tops.add(top)
        lefts.add(left)
    assert tops == {4, 5, 6} and lefts == {5, 6, 7}
    # no defect pixel: uniform crop; an image smaller than the crop is kept whole
    small = np.zeros((3, 3), np.uint8)
    out = crop(dict(img=np.zeros((3, 3, 3), np.uint8), gt_seg_map=small, seg_fields=['gt_seg_map'], img_shape=(3, 3)))
    assert out['img'].shape == (3, 3, 3)
    with pytest.raises(ValueError, match='prob must be in'):
        build_transform(dict(type='DefectCenteredCrop', crop_size=(4, 4), prob=1.5))


def test_amp_on_cpu_without_native_bf16_stays_fp32(monkeypatch):
    from mmengine.config import Config

    from mmwsss.apis import runner_config
    if torch.cuda.is_available():
        pytest.skip('a GPU is present: --amp picks mmengine AmpOptimWrapper (fp16) there')
    monkeypatch.setattr(runner_config, 'cpu_has_native_bf16', lambda: False)
    cfg = Config(dict(optim_wrapper=dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.1))))
    runner_config.enable_amp(cfg)
    assert cfg.optim_wrapper == dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.1))


def test_amp_on_cpu_is_bf16_autocast_with_fp32_weights(monkeypatch):
    from mmengine.config import Config
    from mmengine.registry import OPTIM_WRAPPERS

    from mmwsss.apis import enable_amp, runner_config
    if torch.cuda.is_available():
        pytest.skip('a GPU is present: --amp picks mmengine AmpOptimWrapper (fp16) there')
    monkeypatch.setattr(runner_config, 'cpu_has_native_bf16', lambda: True)  # the choice, on any CPU
    cfg = Config(dict(optim_wrapper=dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.1))))
    enable_amp(cfg)
    assert cfg.optim_wrapper.type == 'CPUAmpOptimWrapper' and cfg.optim_wrapper.dtype == 'bfloat16'
    model = torch.nn.Linear(4, 2)
    wrapper = OPTIM_WRAPPERS.build(dict(cfg.optim_wrapper, optimizer=torch.optim.SGD(model.parameters(), lr=0.1)))
    before = model.weight.detach().clone()
    with wrapper.optim_context(model):
        out = model(torch.ones(3, 4))
    assert out.dtype == torch.bfloat16
    wrapper.update_params(out.float().sum())
    assert model.weight.dtype == torch.float32 and not torch.equal(model.weight, before)
    with pytest.raises(ValueError, match='dtype must be one of'):
        OPTIM_WRAPPERS.build(dict(type='CPUAmpOptimWrapper', dtype='float64',
                                  optimizer=torch.optim.SGD(model.parameters(), lr=0.1)))
