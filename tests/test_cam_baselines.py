"""Every baseline CAM that pytorch-grad-cam 1.5.7 also has equals it (after both normalize)."""
import numpy as np
import pytest
import torch

from mmwsss.cam import build_cam, guided_backprop
from .test_cam import Logits, tiny_classifier

REFERENCE = {
    'gradcampp': 'GradCAMPlusPlus',
    'xgradcam': 'XGradCAM',
    'layercam': 'LayerCAM',
    'hirescam': 'HiResCAM',
    'scorecam': 'ScoreCAM',
    'eigencam': 'EigenCAM',
}


@pytest.fixture(scope='module')
def setup():
    model = tiny_classifier()
    torch.manual_seed(1)
    x = torch.randn(2, 3, 32, 32)
    targets = [2, 0]
    mask = torch.zeros(2, 3, dtype=torch.bool)
    mask[torch.arange(2), torch.tensor(targets)] = True
    return model, x, targets, mask


@pytest.mark.parametrize('method', sorted(REFERENCE))
def test_equals_pytorch_grad_cam(method, setup):
    import pytorch_grad_cam
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
    model, x, targets, mask = setup
    ours = build_cam(method, model, ['backbone.layer4'])(x, mask)[torch.arange(2), torch.tensor(targets)].numpy()
    ref_cls = getattr(pytorch_grad_cam, REFERENCE[method])
    with ref_cls(model=Logits(model), target_layers=[model.backbone.layer4]) as ref_cam:
        if method == 'scorecam':
            ref_cam.batch_size = 64
        ref = ref_cam(input_tensor=x, targets=[ClassifierOutputTarget(t) for t in targets])
    assert ref.max() > 0.5
    if method == 'eigencam':
        # SVD sign is arbitrary in both implementations: compare with the sign that matches
        alt = build_cam(method, model, ['backbone.layer4'])
        flipped = alt.aggregate_layers([-alt.layer_cam(alt.forward_features(x)[1][0].detach(), None, 0)], x.shape[-2:])
        ours_b = flipped.numpy()
        assert min(np.abs(ours - ref).max(), np.abs(ours_b - ref).max()) < 1e-4
    else:
        np.testing.assert_allclose(ours, ref, atol=1e-4)


def test_class_weight_cam_equals_gradcam_under_average_pooling(setup):
    model, x, targets, mask = setup
    cam = build_cam('cam', model, ['backbone.layer4'])(x, mask)
    grad = build_cam('gradcam', model, ['backbone.layer4'])(x, mask)
    torch.testing.assert_close(cam, grad, atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match='last feature map'):
        build_cam('cam', model, ['backbone.layer3'])(x, mask)


def test_score_cam_channel_subset(setup):
    model, x, _, mask = setup
    full = build_cam('scorecam', model, ['backbone.layer4'])(x, mask)
    subset = build_cam('scorecam', model, ['backbone.layer4'], max_channels=8)(x, mask)
    assert subset.shape == full.shape and not torch.isnan(subset).any()
    assert torch.all(subset[~mask] == 0)


def test_guided_backprop_equals_pytorch_grad_cam(setup):
    from pytorch_grad_cam import GuidedBackpropReLUModel
    model, x, _, _ = setup
    ours = guided_backprop(lambda t: model(t, mode='tensor'), model, x[:1], 1)[0].permute(1, 2, 0).numpy()
    ref = GuidedBackpropReLUModel(Logits(model), device='cpu')(x[:1], target_category=1)
    np.testing.assert_allclose(ours, ref, atol=1e-6)
    assert all(type(m).__name__ != 'GuidedReLU' for m in model.modules()), 'ReLUs restored'


def test_guided_gradcam_is_gated_by_gradcam(setup):
    model, x, _, mask = setup
    ggc = build_cam('guided_gradcam', model, ['backbone.layer4'])(x, mask)
    gc = build_cam('gradcam', model, ['backbone.layer4'])(x, mask)
    assert torch.all(ggc[gc == 0] == 0)
    assert torch.all(ggc[~mask] == 0) and ggc[mask].amax() > 0.99


def test_guided_relu6_passes_only_positive_gradients_of_active_units():
    """ReLU6 (EfficientNet-Lite, MobileNet) is guided too: no gradient where x <= 0 or x >= 6."""
    net = torch.nn.Sequential(torch.nn.ReLU6())
    x = torch.tensor([[-1.0, 2.0, 7.0, 3.0]])
    weights = torch.tensor([[1.0, 1.0, 1.0, -1.0]])
    grad = guided_backprop(lambda t: (net(t) * weights), net, x, 0)
    # only the score of column 0 is differentiated: d/dx of relu6(x0) at x0 = -1 is 0
    assert torch.equal(grad, torch.zeros_like(x))
    grad = guided_backprop(lambda t: (net(t) * weights).sum(1, keepdim=True), net, x, 0)
    assert torch.equal(grad, torch.tensor([[0.0, 1.0, 0.0, 0.0]])), 'negative gradient at x=3 and saturated x=7 zeroed'
    assert isinstance(net[0], torch.nn.ReLU6), 'ReLU6 restored'
