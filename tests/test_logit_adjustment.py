"""LogitAdjustedEncoderDecoder: inference logits minus the log of the training loss's class weights."""
import math

import pytest
import torch


def build(cfg):
    from mmengine.config import ConfigDict
    from mmengine.registry import DefaultScope
    from mmseg.registry import MODELS
    with DefaultScope.overwrite_default_scope('mmseg'):
        return MODELS.build(ConfigDict(cfg))


def segmentor_cfg(loss_decode, test_cfg=None, **kwargs):
    """A tiny 4-class segmentor (ResNetV1c at 8 channels, FCN head), built in a second."""
    return dict(
        type='LogitAdjustedEncoderDecoder',
        data_preprocessor=dict(type='SegDataPreProcessor', mean=[0.0] * 3, std=[255.0] * 3, size_divisor=8),
        backbone=dict(type='ResNetV1c', depth=18, stem_channels=8, base_channels=8, out_indices=(3, ),
                      strides=(1, 2, 2, 1), dilations=(1, 1, 1, 2)),
        decode_head=dict(type='FCNHead', in_channels=64, channels=8, num_convs=1, concat_input=False, num_classes=4,
                         in_index=0, norm_cfg=dict(type='BN'), loss_decode=loss_decode),
        test_cfg=test_cfg or dict(mode='whole'),
        **kwargs)


WEIGHTED = [dict(type='WeightedCrossEntropyLoss', defect_weight=5.0, loss_name='loss_ce'),
            dict(type='ClassDiceLoss', loss_name='loss_dice')]


def test_loss_class_weights_sum_the_ce_terms():
    from mmwsss.models import loss_class_weights
    losses = torch.nn.ModuleList([
        build(dict(type='WeightedCrossEntropyLoss', defect_weight=5.0)),
        build(dict(type='ClassDiceLoss')),  # not a CE: no weight
        build(dict(type='CrossEntropyLoss', loss_weight=0.5, class_weight=[2.0, 1.0, 1.0])),
    ])
    # 1 * (1, 5, 5) + 0.5 * (2, 1, 1)
    assert loss_class_weights(losses, 3).tolist() == [2.0, 5.5, 5.5]
    assert loss_class_weights(build(dict(type='ClassDiceLoss')), 3) is None
    assert build(dict(type='WeightedCrossEntropyLoss')).class_weights(2).tolist() == [1.0, 1.0]


def test_offsets_from_the_loss_and_explicit():
    model = build(segmentor_cfg(WEIGHTED))
    assert model.logit_offsets.tolist() == pytest.approx([0.0] + [-math.log(5.0)] * 3)
    model = build(segmentor_cfg(WEIGHTED, logit_adjustment=[0.0, 1.0, 2.0, 3.0]))
    assert model.logit_offsets.tolist() == [0.0, 1.0, 2.0, 3.0]
    assert build(segmentor_cfg(WEIGHTED, logit_adjustment=None)).logit_offsets is None
    assert 'logit_offsets' not in model.state_dict()  # checkpoints stay plain EncoderDecoder ones


@pytest.mark.parametrize('loss_decode, option, message', [
    ([dict(type='ClassDiceLoss')], 'loss', 'needs a softmax cross-entropy'),
    (WEIGHTED, [0.0, 1.0], '2 offsets for 4 output channels'),
    (WEIGHTED, 'prior', "must be 'loss', None or one offset per class"),
])
def test_bad_options_say_which_key(loss_decode, option, message):
    with pytest.raises(ValueError, match=message):
        build(segmentor_cfg(loss_decode, logit_adjustment=option))


@pytest.mark.parametrize('test_cfg', [dict(mode='whole'), dict(mode='slide', crop_size=(16, 16), stride=(8, 8))])
def test_prediction_is_the_plain_model_minus_the_log_weights(test_cfg):
    """The same weights as a plain EncoderDecoder: logits differ by exactly (0, -log 5, -log 5, -log 5) (once, also
    where slide inference averages overlapping crops, and in tensor mode), and the prediction is the argmax of the
    adjusted logits (a defect logit 1.0 above background is background after it)."""
    from mmseg.structures import SegDataSample
    torch.manual_seed(0)
    adjusted = build(segmentor_cfg(WEIGHTED, test_cfg)).eval()
    plain = build(dict(segmentor_cfg(WEIGHTED, test_cfg), type='EncoderDecoder')).eval()
    plain.load_state_dict(adjusted.state_dict())
    img = (torch.rand(3, 24, 40, generator=torch.Generator().manual_seed(1)) * 255).to(torch.uint8)

    def run(model):
        sample = SegDataSample(metainfo=dict(img_shape=(24, 40), ori_shape=(24, 40)))
        with torch.no_grad():
            out = model.test_step(dict(inputs=[img], data_samples=[sample]))[0]
        return out.seg_logits.data, out.pred_sem_seg.data[0]

    (z, _), (z_adj, pred) = run(plain), run(adjusted)
    offsets = torch.tensor([0.0] + [-math.log(5.0)] * 3)[:, None, None]
    torch.testing.assert_close(z_adj, z + offsets)
    assert torch.equal(pred, (z + offsets).argmax(0))
    batch = img[None].float()
    with torch.no_grad():
        torch.testing.assert_close(adjusted(batch, mode='tensor'), plain(batch, mode='tensor') + offsets)
    # the rule at one pixel, by hand: background 0.0, a defect 1.0 -> defect before, background after (1 - 1.609 < 0)
    pixel = torch.tensor([0.0, 1.0, -2.0, -2.0])
    assert int(pixel.argmax()) == 1 and int((pixel + offsets[:, 0, 0]).argmax()) == 0


def test_onnx_export_carries_the_offsets(repo_root):
    import os.path as osp

    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmseg.apis import init_model
    from mmseg.structures import SegDataSample

    from mmwsss.apis.segmenter_export import ExportableSegmenter
    cfg = Config.fromfile(
        osp.join(repo_root, 'configs/segmenter/deeplabv3plus_r18-d16_1xb8-400_synthetic-pseudo-128x128.py'))
    cfg.model.type = 'LogitAdjustedEncoderDecoder'
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = init_model(cfg, None, device='cpu').eval()
    img = (torch.rand(3, 32, 48, generator=torch.Generator().manual_seed(2)) * 255).to(torch.uint8)
    sample = SegDataSample(metainfo=dict(img_shape=(32, 48), ori_shape=(32, 48)))
    with torch.no_grad():
        expected = model.test_step(dict(inputs=[img], data_samples=[sample]))[0].seg_logits.data
        got = ExportableSegmenter(model)(img[None].float())[0]
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)
