"""Segmenter recipe pieces: RandomRot90, RandomRescale (mmseg TRANSFORMS) and bf16 --amp on the CPU."""
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


def test_amp_on_cpu_is_bf16_autocast_with_fp32_weights():
    from mmengine.config import Config
    from mmengine.registry import OPTIM_WRAPPERS

    from mmwsss.apis import enable_amp
    if torch.cuda.is_available():
        pytest.skip('a GPU is present: --amp picks mmengine AmpOptimWrapper (fp16) there')
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
