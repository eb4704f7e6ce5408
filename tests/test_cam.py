import numpy as np
import pytest
import torch
from torch import nn

from mmwsss.cam import GradCAM, build_cam, minmax_scale
from mmwsss.registry import CAM_METHODS


def tiny_classifier(num_classes=3):
    from mmengine.registry import DefaultScope
    from mmpretrain.registry import MODELS
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(
            dict(type='ImageClassifier',
                 backbone=dict(type='ResNet', depth=18, base_channels=8, stem_channels=8, strides=(1, 2, 2, 1),
                               out_indices=(3, )),
                 neck=dict(type='GlobalAveragePooling'),
                 head=dict(type='MultiLabelLinearClsHead', num_classes=num_classes, in_channels=64)))
        model.init_weights()
    # make BN statistics non-trivial so the maps are not degenerate
    model.train()
    with torch.no_grad():
        model(torch.randn(8, 3, 64, 64), mode='tensor')
    return model.eval()


class Logits(nn.Module):
    """Plain logits module for pytorch-grad-cam."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(x, mode='tensor')


def test_gradcam_equals_pytorch_grad_cam():
    from pytorch_grad_cam import GradCAM as RefGradCAM
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
    model = tiny_classifier()
    torch.manual_seed(1)
    x = torch.randn(4, 3, 64, 64)
    targets = [0, 2, 1, 2]
    mask = torch.zeros(4, 3, dtype=torch.bool)
    mask[torch.arange(4), torch.tensor(targets)] = True
    ours = GradCAM(model, ['backbone.layer4'])(x, mask)
    ours = ours[torch.arange(4), torch.tensor(targets)].numpy()
    with RefGradCAM(model=Logits(model), target_layers=[model.backbone.layer4]) as ref_cam:
        ref = ref_cam(input_tensor=x, targets=[ClassifierOutputTarget(t) for t in targets])
    assert ours.shape == ref.shape == (4, 64, 64)
    assert ref.max() > 0.5  # the comparison is not between two empty maps
    np.testing.assert_allclose(ours, ref, atol=1e-5)


def test_multi_class_batched_matches_one_class_at_a_time():
    model = tiny_classifier()
    x = torch.randn(3, 3, 64, 64)
    mask = torch.tensor([[1, 1, 0], [0, 1, 1], [0, 0, 0]], dtype=torch.bool)
    cam = GradCAM(model, ['backbone.layer4', 'backbone.layer3'])
    both = cam(x, mask)
    for k in range(3):
        single = torch.zeros_like(mask)
        single[:, k] = mask[:, k]
        torch.testing.assert_close(both[:, k], cam(x, single)[:, k])
    assert torch.all(both[2] == 0), 'an image with no requested class must have all-zero maps'
    assert torch.all(both[0, 2] == 0) and both[0, 0].max() > 0.99


@pytest.mark.parametrize('method', ['gradcam', 'gradcampp', 'xgradcam', 'layercam', 'hirescam', 'racam'])
def test_class_slots_equal_one_pass_per_class_in_fewer_backward_passes(method, monkeypatch):
    model = tiny_classifier()
    torch.manual_seed(2)
    x = torch.randn(4, 3, 64, 64)
    # three classes in the batch, at most two per image: 2 class slots instead of 3 class passes
    mask = torch.tensor([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 1]], dtype=torch.bool)
    cam = build_cam(method, model, ['backbone.layer3', 'backbone.layer4'])
    calls, real_grad = [], torch.autograd.grad

    def counting_grad(*args, **kwargs):
        calls.append(1)
        return real_grad(*args, **kwargs)

    monkeypatch.setattr(torch.autograd, 'grad', counting_grad)
    slotted = cam(x, mask)
    slot_passes = len(calls)
    cam.per_image_classes = False
    per_class = cam(x, mask)
    assert (slot_passes, len(calls) - slot_passes) == (2, 3)
    torch.testing.assert_close(slotted, per_class, atol=1e-5, rtol=0)
    assert slotted[3, 0].max() > 0.99 and slotted[3, 2].max() > 0.99, 'both classes of image 3 are drawn'
    assert torch.all(slotted[3, 1] == 0) and torch.all(slotted[0, 1:] == 0), 'unrequested maps stay zero'


def test_class_slots_layout_and_guided_backprop_per_image_class():
    from mmwsss.cam import guided_backprop
    from mmwsss.cam.base_cam import class_slots
    mask = torch.tensor([[1, 0, 1], [0, 0, 0], [0, 1, 1]], dtype=torch.bool)
    slots = class_slots(mask)
    assert [s.int().tolist() for s in slots] == [[[1, 0, 0], [0, 0, 0], [0, 1, 0]],
                                                 [[0, 0, 1], [0, 0, 0], [0, 0, 1]]]
    assert class_slots(torch.zeros(2, 3, dtype=torch.bool)) == []
    model = tiny_classifier()
    x = torch.randn(3, 3, 64, 64)
    fn = lambda t: model(t, mode='tensor')  # noqa: E731
    both = guided_backprop(fn, model, x, slots[0])  # image 0 for class 0, image 2 for class 1, one pass
    torch.testing.assert_close(both[0], guided_backprop(fn, model, x, 0)[0])
    torch.testing.assert_close(both[2], guided_backprop(fn, model, x, 1)[2])
    assert torch.all(both[1] == 0)


def test_hooks_removed_no_param_grads_and_deterministic():
    model = tiny_classifier()
    x = torch.randn(2, 3, 64, 64)
    mask = torch.ones(2, 3, dtype=torch.bool)
    cam = GradCAM(model, ['backbone.layer4'])
    a = cam(x, mask)
    b = cam(x, mask)
    assert torch.equal(a, b)
    assert len(model.backbone.layer4._forward_hooks) == 0
    assert all(p.grad is None for p in model.parameters())
    # the model still trains afterwards
    model.train()
    model(x, mode='tensor').sum().backward()
    assert model.head.fc.weight.grad is not None


def test_zero_gradients_give_zero_maps_without_nan():
    model = tiny_classifier()
    with torch.no_grad():
        model.head.fc.weight.zero_()
    maps = GradCAM(model, ['backbone.layer4'])(torch.randn(2, 3, 32, 32), torch.ones(2, 3, dtype=torch.bool))
    assert not torch.isnan(maps).any() and torch.all(maps == 0)


def test_maps_under_bf16_autocast_are_float32_and_close():
    """Under ``torch.autocast('cpu', bfloat16)`` (a bf16 run's inference) Grad-CAM's maps come back float32 and
    close to the fp32 ones (the class-slot assignment failed with a dtype mismatch before)."""
    model = tiny_classifier()
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    mask = torch.tensor([[True, False, False], [False, True, False]])
    cam = GradCAM(model, ['backbone.layer4'])
    ref = cam(x, mask)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        low = cam(x, mask)
    assert low.dtype == torch.float32
    assert (low - ref).abs().mean() < 0.05


def test_minmax_scale_values():
    m = torch.tensor([[[1.0, 3.0], [2.0, 5.0]]])
    torch.testing.assert_close(minmax_scale(m), torch.tensor([[[0.0, 0.5], [0.25, 1.0]]]), atol=1e-6, rtol=0)
    assert torch.all(minmax_scale(torch.full((1, 2, 2), 7.0)) == 0)


def test_registry_and_errors():
    assert CAM_METHODS.get('gradcam') is GradCAM
    model = tiny_classifier()
    assert isinstance(build_cam('gradcam', model, ['backbone.layer4']), GradCAM)
    with pytest.raises(KeyError, match='unknown CAM method'):
        build_cam('nope', model, ['backbone.layer4'])
    with pytest.raises(ValueError, match='not found'):
        GradCAM(model, ['backbone.layer9'])
    with pytest.raises(ValueError, match='class_mask'):
        GradCAM(model, ['backbone.layer4'])(torch.randn(2, 3, 32, 32), torch.ones(3, 3))


def test_multi_scale_cam_averages_rescaled_and_mirrored_maps():
    """MultiScaleCAM = minmax(mean over scales / flips of the wrapped maps, resized back), by hand with a
    wrapped method that returns a known map."""
    import torch.nn.functional as F

    from mmwsss.cam import MultiScaleCAM, build_cam, minmax_scale

    class Ramp:
        """maps = the input's first channel, min-max scaled (a deterministic 'CAM')."""

        def __call__(self, x, mask):
            return minmax_scale(x[:, :1].expand(-1, mask.shape[1], -1, -1)) * mask[:, :, None, None]

    x = torch.arange(2 * 3 * 4 * 6, dtype=torch.float).reshape(2, 3, 4, 6) % 7
    mask = torch.tensor([[True, False], [True, True]])
    out = MultiScaleCAM(Ramp(), scales=(1.0, 2.0), flip=True)(x, mask)
    one = Ramp()(x, mask)
    up = F.interpolate(Ramp()(F.interpolate(x, size=(8, 12), mode='bilinear', align_corners=False), mask),
                       size=(4, 6), mode='bilinear', align_corners=False)
    # mirroring the input and the map back gives the same map for this per-pixel 'CAM': terms = 2 x (one + up)
    expected = minmax_scale(2 * one + 2 * up) * mask[:, :, None, None]
    assert out.shape == (2, 2, 4, 6)
    torch.testing.assert_close(out, expected)
    assert out[0, 1].abs().sum() == 0 and out.max() <= 1.0
    with pytest.raises(ValueError, match='positive numbers'):
        MultiScaleCAM(Ramp(), scales=())
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(),
                                torch.nn.Linear(4, 2))
    assert not isinstance(build_cam('gradcam', model, ['0']), MultiScaleCAM)  # single scale: the method itself
    wrapped = build_cam('gradcam', model, ['0'], scales=[1.0, 1.5], flip=True)
    assert isinstance(wrapped, MultiScaleCAM) and wrapped.target_layer_names == ['0']
    assert wrapped(torch.rand(2, 3, 9, 9), mask).shape == (2, 2, 9, 9)
