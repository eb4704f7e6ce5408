# The small-defect recipe with a Semantic-FPN decoder: as
# ./deeplabv3plus_efficientnet-lite0-d16_in1k-pre_1xb16-2k_mtd-pseudo-native-dcrop128-balanced.py (same data, crops,
# sampler, loss and schedule; CAM pseudo-labels) with lateral 1x1 convs on stride 4 / 8 / 16 / 16 features (stages 2,
# 3, 4 and the 1280-channel head conv), top-down sums, every level upsampled to stride 4 and summed. DeepLabV3+ takes
# stride-4 detail from one 24-channel stage; FPN from every stage (fully supervised MTD test: 0.587 vs 0.497 mIoU).
_base_ = './deeplabv3plus_efficientnet-lite0-d16_in1k-pre_1xb16-2k_mtd-pseudo-native-dcrop128-balanced.py'
custom_imports = dict(imports=['mmwsss'], allow_failed_imports=False)
fpn_channels = 64
model = dict(
    backbone=dict(out_indices=(2, 3, 4, 8)),
    neck=dict(type='FPN', in_channels=[24, 40, 80, 1280], out_channels=fpn_channels, num_outs=4),
    decode_head=dict(
        _delete_=True,
        type='FPNHead',
        in_channels=[fpn_channels] * 4,
        in_index=[0, 1, 2, 3],
        feature_strides=[4, 8, 16, 16],
        channels=fpn_channels,
        dropout_ratio=0.1,
        num_classes={{_base_.num_classes}},
        norm_cfg=dict(type='BN', requires_grad=True),
        align_corners=False,
        loss_decode={{_base_.model.decode_head.loss_decode}}),
    auxiliary_head=dict(in_channels=fpn_channels, in_index=2, channels=fpn_channels))
