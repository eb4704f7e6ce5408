# UNet-S5-D16 + FCN head (mmseg's base) with BN and a narrower base width for CPU budgets.
_base_ = 'mmseg::_base_/models/fcn_unet_s5-d16.py'
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    backbone=dict(base_channels=32, norm_cfg=norm_cfg),
    decode_head=dict(in_channels=32, channels=32, norm_cfg=norm_cfg),
    auxiliary_head=dict(in_channels=64, channels=32, norm_cfg=norm_cfg),
    test_cfg=dict(mode='whole'))
