import pytest
import torch
from torch import nn

from mmwsss.cam import RegionAwareCAM, build_cam, filter_gradient
from .test_cam import tiny_classifier


def test_filter_gradient_by_hand():
    g = torch.tensor([[4.0, -3.0, 2.0, 1.0, 0.5, 0.0, -6.0, 3.5]])
    a = torch.tensor([[1.0, 1.0, 2.0, 0.0, 4.0, 9.0, 1.0, 1.0]])
    # |g| > 0: .5, 1, 2, 3, 3.5, 4, 6 -> median 3 -> keep |g| >= 3: idx 0, 1, 6, 7; guided: idx 0, 7
    out = filter_gradient(g, a, q=0.5, criterion='grad', guided=True)
    assert out.tolist() == [[4.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 3.5]]
    out = filter_gradient(g, a, q=0.5, criterion='grad', guided=False)
    assert out.tolist() == [[4.0, -3.0, 0.0, 0.0, 0.0, 0.0, -6.0, 3.5]]
    # g*a = 4, -3, 4, 0, 2, 0, -6, 3.5; positive: 2, 3.5, 4, 4 -> 0.75-quantile 4 -> keep idx 0, 2
    out = filter_gradient(g, a, q=0.75, criterion='grad_x_act', guided=False)
    assert out.tolist() == [[4.0, 0.0, 2.0, 0.0, 0.0, 0.0, 0.0, 0.0]]
    # q = 0: guided rule only
    assert filter_gradient(g, a, q=0.0, guided=True).tolist() == [[4.0, 0.0, 2.0, 1.0, 0.5, 0.0, 0.0, 3.5]]
    # per sample: the second sample's threshold is its own
    two = filter_gradient(torch.stack([g[0], g[0] * 10]), torch.stack([a[0], a[0]]), 0.5, 'grad', True)
    assert torch.equal(two[1], two[0] * 10)
    assert torch.all(filter_gradient(torch.zeros(2, 5), torch.ones(2, 5), 0.5) == 0)
    with pytest.raises(ValueError, match='q must be'):
        filter_gradient(g, a, q=1.0)


class HandNet(nn.Module):
    """x (N, 1, 1, 4) -> conv1x1 (w=1) -> ReLU -> 'mid' (identity conv) -> ReLU -> sum * weights."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential()
        self.features.add_module('stage1', nn.Sequential(nn.Conv2d(1, 1, 1, bias=False), nn.ReLU()))
        self.features.add_module('stage2', nn.Sequential(nn.Conv2d(1, 1, 1, bias=False), nn.ReLU()))
        for m in self.features.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.ones_(m.weight)
        self.register_buffer('w', torch.tensor([1.0, -2.0, 3.0, 0.5]))

    def forward(self, x):
        f = self.features(x)  # (N, 1, 1, 4)
        return (f[:, 0, 0] * self.w).sum(1, keepdim=True)  # (N, 1): one class


def test_fgbp_compounds_to_shallow_layers_by_hand():
    net = HandNet()
    x = torch.tensor([[[[1.0, 2.0, 3.0, 4.0]]]])
    # dy/d(stage2 out) = w = [1, -2, 3, .5]; a = x = [1, 2, 3, 4]; g * a = [1, -4, 9, 2]; positive
    # importances 1, 2, 9 -> median 2 -> keep idx 2, 3: [0, 0, 3, .5]
    cam = RegionAwareCAM(net, ['features.stage1', 'features.stage2'], q=0.5, criterion='grad_x_act',
                         guided=True, filter_points='layers', gamma=0.0)
    logits, acts = cam.forward_features(x.requires_grad_(True))
    g1, g2 = cam.backward_gradients(logits[:, 0].sum(), acts)
    # stage2's filter keeps [0, 0, 3, .5]; that gradient reaches stage1 unchanged (identity conv, ReLU on
    # positive inputs), where g * a = [0, 0, 9, 2] -> median of the positives 5.5 -> keep idx 2 only
    assert g2.flatten().tolist() == [0.0, 0.0, 3.0, 0.5]
    assert g1.flatten().tolist() == [0.0, 0.0, 3.0, 0.0]
    # no filtering: the negative path reaches stage1
    plain = RegionAwareCAM(net, ['features.stage1', 'features.stage2'], q=None, guided=False,
                           filter_points='layers')
    logits, acts = plain.forward_features(x.clone().requires_grad_(True))
    g1, g2 = plain.backward_gradients(logits[:, 0].sum(), acts)
    assert g1.flatten().tolist() == g2.flatten().tolist() == [1.0, -2.0, 3.0, 0.5]


def test_racam_maps_hooks_and_training_afterwards():
    model = tiny_classifier()
    x = torch.randn(2, 3, 64, 64)
    mask = torch.tensor([[1, 0, 1], [0, 0, 0]], dtype=torch.bool)
    layers = ['backbone.layer1', 'backbone.layer2', 'backbone.layer3', 'backbone.layer4']
    cam = build_cam('racam', model, layers, q=0.5)
    a = cam(x, mask)
    assert torch.equal(a, cam(x, mask)), 'deterministic'
    assert a.shape == (2, 3, 64, 64) and not torch.isnan(a).any()
    assert torch.all(a[1] == 0) and torch.all(a[0, 1] == 0) and a[0, 0].max() > 0.99
    assert all(len(m._forward_hooks) == 0 for m in model.modules())
    assert all(p.grad is None for p in model.parameters())
    # the prior confines the fused map to where the (filtered) deep map is non-zero
    deep = build_cam('racam', model, ['backbone.layer4'], q=0.5)(x, mask)
    assert torch.all(a[0, 0][deep[0, 0] == 0] == 0)
    model.train()
    model(x, mode='tensor').sum().backward()
    assert model.head.fc.weight.grad is not None


def test_racam_step_extent_switches_between_deep_and_detail():
    model = tiny_classifier()
    x = torch.randn(2, 3, 64, 64)
    mask = torch.tensor([[1, 0, 0], [0, 1, 0]], dtype=torch.bool)
    layers = ['backbone.layer1', 'backbone.layer4']
    deep_only = build_cam('racam', model, layers, prior='gate', detail_weight=0.0)(x, mask)
    always = build_cam('racam', model, layers, prior='gate', detail_weight=1.0)(x, mask)
    never = build_cam('racam', model, layers, prior='gate', detail_weight=1.0, extent_scale=1e-9,
                      extent_mode='step')(x, mask)  # no region is that small: deep map everywhere
    assert torch.allclose(never, deep_only, atol=1e-6)
    assert not torch.allclose(always, deep_only, atol=1e-3)


def test_racam_zero_gradients_and_validation():
    model = tiny_classifier()
    with torch.no_grad():
        model.head.fc.weight.zero_()
    maps = build_cam('racam', model, ['backbone.layer3', 'backbone.layer4'])(torch.randn(2, 3, 32, 32),
                                                                            torch.ones(2, 3, dtype=torch.bool))
    assert torch.all(maps == 0) and not torch.isnan(maps).any()
    with pytest.raises(ValueError, match='detail_weight'):
        RegionAwareCAM(model, ['backbone.layer4'], detail_weight=1.5)
    with pytest.raises(ValueError, match='extent_scale'):
        RegionAwareCAM(model, ['backbone.layer4'], extent_scale=0.0)
    with pytest.raises(ValueError, match='extent_mode'):
        RegionAwareCAM(model, ['backbone.layer4'], extent_scale=0.1, extent_mode='cubic')
    with pytest.raises(ValueError, match='detail_power'):
        RegionAwareCAM(model, ['backbone.layer4'], detail_power=0.0)
    with pytest.raises(ValueError, match='prior'):
        RegionAwareCAM(model, ['backbone.layer4'], prior='box')
    with pytest.raises(ValueError, match='fusion'):
        RegionAwareCAM(model, ['backbone.layer4'], fusion='mean')
    with pytest.raises(ValueError, match='layer_weights'):
        RegionAwareCAM(model, ['backbone.layer3', 'backbone.layer4'], layer_weights=[1, 2])


def test_filter_quantile_on_a_strided_subsample_beyond_max_samples():
    """Large maps: the threshold comes from every k-th entry; exact when the subsample holds them all."""
    from mmwsss.cam.gradient_filter import filter_gradient
    torch.manual_seed(0)
    g = torch.rand(2, 1000)
    a = torch.ones(2, 1000)
    exact = filter_gradient(g, a, 0.5, max_samples=1000)
    sub = filter_gradient(g, a, 0.5, max_samples=100)
    assert torch.equal(exact, filter_gradient(g, a, 0.5))
    kept_exact, kept_sub = (exact > 0).float().mean().item(), (sub > 0).float().mean().item()
    assert kept_exact == pytest.approx(0.5, abs=0.002) and kept_sub == pytest.approx(0.5, abs=0.08)
    assert torch.equal(sub, filter_gradient(g, a, 0.5, max_samples=100)), 'deterministic'


def test_filter_deepest_false_keeps_the_raw_gradient_for_the_prior():
    """Deepest map = plain LayerCAM of that layer; shallow maps still see the filtered gradient."""
    model = tiny_classifier()
    torch.manual_seed(1)
    x = torch.randn(2, 3, 64, 64)
    mask = torch.tensor([[True, False, True], [False, True, False]])
    layers = ['backbone.layer2', 'backbone.layer4']
    captured = {}

    def maps_of(**kw):
        cam = build_cam('racam', model, layers, detail_weight=0.0, **kw)
        cam.aggregate_layers = lambda maps, size: captured.setdefault(len(captured), maps)[0].new_zeros(
            maps[0].shape[0], *size)
        cam(x, mask)
        return captured.popitem()[1]

    plain = maps_of(q=None, guided=False)
    mixed = maps_of(q=0.5, guided=True, filter_deepest=False)
    full = maps_of(q=0.5, guided=True, filter_deepest=True)
    torch.testing.assert_close(mixed[1], plain[1])
    assert not torch.allclose(mixed[0], plain[0]), 'shallow map filtered'
    assert not torch.allclose(full[1], plain[1]), 'with filter_deepest the deep map is filtered too'
