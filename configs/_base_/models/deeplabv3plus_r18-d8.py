# DeepLabV3+ with ResNet-18-V1c, output stride 8, from scratch (no download); BN instead of SyncBN
# (single process; with --launcher pytorch set `sync_bn='torch'` in the config for SyncBN).
# Pseudo-labels are mostly background with small defects and a 255 band: defect classes weigh 5x, with an
# ignore-safe loss (mmseg 1.2.2's CrossEntropyLoss(class_weight) fails on 255 labels).
_base_ = 'mmseg::_base_/models/deeplabv3plus_r50-d8.py'
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    pretrained=None,
    backbone=dict(depth=18, norm_cfg=norm_cfg),
    decode_head=dict(
        in_channels=512,
        channels=128,
        c1_in_channels=64,
        c1_channels=48,
        norm_cfg=norm_cfg,
        loss_decode=dict(
            _delete_=True, type='WeightedCrossEntropyLoss', defect_weight=5.0, loss_weight=1.0,
            loss_name='loss_ce')),
    auxiliary_head=dict(
        in_channels=256,
        channels=64,
        norm_cfg=norm_cfg,
        loss_decode=dict(
            _delete_=True, type='WeightedCrossEntropyLoss', defect_weight=5.0, loss_weight=0.4,
            loss_name='loss_ce')))
