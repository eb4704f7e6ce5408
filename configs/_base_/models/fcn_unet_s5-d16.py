# UNet-S5-D16 + FCN head (mmseg's base) with BN and a narrower base width for CPU budgets; defect classes
# weigh 5x with an ignore-safe loss (see deeplabv3plus_r18-d8.py).
_base_ = 'mmseg::_base_/models/fcn_unet_s5-d16.py'
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    backbone=dict(base_channels=32, norm_cfg=norm_cfg),
    decode_head=dict(
        in_channels=32,
        channels=32,
        norm_cfg=norm_cfg,
        loss_decode=dict(
            _delete_=True, type='WeightedCrossEntropyLoss', defect_weight=5.0, loss_weight=1.0,
            loss_name='loss_ce')),
    auxiliary_head=dict(
        in_channels=64,
        channels=32,
        norm_cfg=norm_cfg,
        loss_decode=dict(
            _delete_=True, type='WeightedCrossEntropyLoss', defect_weight=5.0, loss_weight=0.4,
            loss_name='loss_ce')),
    test_cfg=dict(mode='whole'))
