"""ONNX export: the exported function is mmseg's test path (preprocessing, padding, crop), ONNX Runtime matches it."""
import json
import os.path as osp

import numpy as np
import pytest
import torch


@pytest.fixture(scope='module')
def segmentor(repo_root):
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmseg.apis import init_model
    cfg = Config.fromfile(
        osp.join(repo_root, 'configs/segmenter/deeplabv3plus_r18-d16_1xb8-400_synthetic-pseudo-128x128.py'))
    cfg.model.data_preprocessor.test_cfg = dict(size_divisor=32)  # odd sizes are padded, then cropped back
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = init_model(cfg, None, device='cpu').eval()
    for m in model.modules():  # non-trivial BN statistics
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    return model


def test_exported_function_is_mmseg_test_step(segmentor):
    from mmseg.structures import SegDataSample

    from mmwsss.apis.segmenter_export import ExportableSegmenter
    img = (torch.rand(3, 45, 70, generator=torch.Generator().manual_seed(1)) * 255).to(torch.uint8)
    sample = SegDataSample(metainfo=dict(img_shape=(45, 70), ori_shape=(45, 70)))
    with torch.no_grad():
        expected = segmentor.test_step(dict(inputs=[img], data_samples=[sample]))[0].seg_logits.data
        got = ExportableSegmenter(segmentor)(img[None].float())[0]
    assert got.shape == expected.shape == (4, 45, 70)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)


def test_onnx_runtime_matches_pytorch_with_dynamic_size(segmentor, tmp_path):
    from mmwsss.apis.segmenter_export import ExportableSegmenter, OnnxSegmenter, export_onnx
    path = str(tmp_path / 'toy.onnx')
    classes = ['background', 'scratch', 'pit', 'stain']
    export_onnx(segmentor, path, torch.zeros(1, 3, 64, 64), classes, dict(score_thr=0.3, min_area=5))
    session = OnnxSegmenter(path)
    assert session.classes == classes and session.decision == dict(score_thr=0.3, min_area=5)
    wrapper = ExportableSegmenter(segmentor).eval()
    for shape in [(1, 3, 64, 64), (3, 3, 37, 90)]:  # another batch and size than traced
        img = torch.rand(shape, generator=torch.Generator().manual_seed(2)) * 255
        with torch.no_grad():
            expected = wrapper(img).numpy()
        got = session.logits(img.numpy())
        assert got.shape == expected.shape
        assert np.abs(got - expected).max() < 1e-4
        assert np.array_equal(got.argmax(1), expected.argmax(1))


def test_onnx_file_without_metadata_is_refused(segmentor, tmp_path):
    import onnx

    from mmwsss.apis.segmenter_export import OnnxSegmenter, export_onnx
    path = str(tmp_path / 'plain.onnx')
    export_onnx(segmentor, path, torch.zeros(1, 3, 32, 32), ['a', 'b', 'c', 'd'])
    model = onnx.load(path)
    assert json.loads({p.key: p.value for p in model.metadata_props}['mmwsss.classes']) == ['a', 'b', 'c', 'd']
    del model.metadata_props[:]
    onnx.save(model, path)
    with pytest.raises(ValueError, match='no mmwsss.classes metadata; export it with tools/deployment'):
        OnnxSegmenter(path)


def test_same_padding_formula_equals_mmcv():
    from mmcv.cnn.bricks.conv2d_adaptive_padding import Conv2dAdaptivePadding

    from mmwsss.apis.segmenter_export import _traceable_same_padding
    for k, s, d in [(1, 1, 1), (3, 1, 1), (3, 2, 1), (5, 2, 1), (3, 1, 2), (5, 1, 2)]:
        conv = Conv2dAdaptivePadding(2, 2, k, stride=s, dilation=d).eval()
        for n in range(5, 24):
            x = torch.rand(1, 2, n, n + 3)
            assert torch.equal(conv(x), _traceable_same_padding(conv, x)), (k, s, d, n)


def test_efficientnet_lite_segmenter_exports_with_dynamic_size(repo_root, tmp_path):
    # TF "SAME" padding (mmcv Conv2dAdaptivePadding) computes its padding with math.ceil: traced as is, the
    # traced size is baked in and other sizes come out cropped (failed before traceable_same_padding)
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmseg.apis import init_model

    from mmwsss.apis.segmenter_export import ExportableSegmenter, OnnxSegmenter, export_onnx
    name = 'deeplabv3plus_efficientnet-lite0-d16_in1k-pre_1xb8-1k_mtd-pseudo-native-crop256.py'
    cfg = Config.fromfile(osp.join(repo_root, 'configs', 'segmenter', name))
    cfg.model.backbone.init_cfg = None  # random weights: no download, no PyPI weights needed
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = init_model(cfg, None, device='cpu').eval()
    path = str(tmp_path / 'lite0.onnx')
    export_onnx(model, path, torch.zeros(1, 3, 64, 64), ['c'] * 6)
    img = torch.rand(1, 3, 71, 97, generator=torch.Generator().manual_seed(4)) * 255
    with torch.no_grad():
        expected = ExportableSegmenter(model)(img).numpy()
    got = OnnxSegmenter(path).logits(img.numpy())
    assert got.shape == expected.shape == (1, 6, 71, 97)
    assert np.abs(got - expected).max() < 1e-4
