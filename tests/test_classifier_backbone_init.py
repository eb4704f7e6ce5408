"""``init_backbone_from_classifier``: the segmenter's backbone starts from the classifier checkpoint, exactly, or
the mismatch is named."""
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmwsss.apis.classifier_backbone_init import BackboneMismatchError, init_backbone_from_classifier

BACKBONE = dict(type='mmpretrain.ResNet', depth=18, stem_channels=8, base_channels=8, num_stages=4,
                strides=(1, 2, 2, 1), out_indices=(0, 1, 2, 3), style='pytorch')


def seg_cfg(**backbone):
    """A tiny DeepLabV3+ on the classifier's ResNet (8 base channels: stage widths 8 / 16 / 32 / 64)."""
    return Config(dict(model=dict(
        type='EncoderDecoder',
        pretrained=None,
        data_preprocessor=dict(type='SegDataPreProcessor'),
        backbone=dict(BACKBONE, **backbone),
        decode_head=dict(type='DepthwiseSeparableASPPHead', in_channels=64, in_index=3, channels=16,
                         dilations=(1, 2), c1_in_channels=8, c1_channels=8, num_classes=3,
                         norm_cfg=dict(type='BN'), loss_decode=dict(type='CrossEntropyLoss')))))


@pytest.fixture
def classifier_checkpoint(tmp_path):
    from mmpretrain.registry import MODELS
    torch.manual_seed(0)
    backbone = MODELS.build({**BACKBONE, 'type': 'ResNet', 'out_indices': (3, )})
    state = {f'backbone.{k}': v for k, v in backbone.state_dict().items()}
    state['head.fc.weight'] = torch.zeros(3, 64)  # not a backbone tensor: ignored
    path = str(tmp_path / 'epoch_1.pth')
    torch.save(dict(state_dict=state, meta=dict()), path)
    return path, backbone.state_dict()


def test_segmenter_backbone_equals_the_classifier_backbone(classifier_checkpoint):
    from mmseg.registry import MODELS
    path, expected = classifier_checkpoint
    cfg = seg_cfg(init_cfg=dict(type='Pretrained', checkpoint='pypi://elsewhere'))  # replaced
    info = init_backbone_from_classifier(cfg, path)
    assert cfg.model.backbone.init_cfg == dict(type='Pretrained', checkpoint=path, prefix='backbone.')
    assert info == dict(checkpoint=path, tensors=len(expected))
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(cfg.model)
    model.init_weights()
    got = model.backbone.state_dict()
    assert set(got) == set(expected)
    for name, value in expected.items():
        assert torch.equal(got[name], value), name


def test_dilation_changes_no_weight(classifier_checkpoint):
    path, _ = classifier_checkpoint
    cfg = seg_cfg(dilations=(1, 1, 1, 2))  # a segmenter may dilate its last stage: the same tensors
    init_backbone_from_classifier(cfg, path)
    assert cfg.model.backbone.init_cfg.checkpoint == path


def test_another_architecture_is_named(classifier_checkpoint):
    path, _ = classifier_checkpoint
    cfg = seg_cfg(base_channels=16)
    with pytest.raises(BackboneMismatchError, match=r'backbone tensor layer1\.0\.conv1\.weight .* is shape'):
        init_backbone_from_classifier(cfg, path)
    cfg = seg_cfg(depth=34)  # more blocks: layer1.2 is not in the checkpoint
    with pytest.raises(BackboneMismatchError, match='is missing in the classifier checkpoint'):
        init_backbone_from_classifier(cfg, path)
    assert 'init_cfg' not in cfg.model.backbone  # nothing half-set
