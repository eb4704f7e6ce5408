# DeepLabV3+ EfficientNet-Lite0-d16 on CAM pseudo-labels of DAGM 2007 (ten textures, class N = ClassN defect; weak ellipse masks);
# evaluated on the GT masks of the test split. MTD's 256x256 weak recipe
# (deeplabv3plus_efficientnet-lite0-d16_in1k-pre_1xb8-2k_mtd-pseudo-256x256.py): 256x256, 2000 it. The small-defect
# recipe of the folder converter: fpn_efficientnet-lite0-d16_in1k-pre_1xb16-2k_dagm-pseudo-native-dcrop128-balanced.py.
_base_ = [
    '../_base_/models/deeplabv3plus_efficientnet-lite0-d16.py', '../_base_/datasets/dagm_seg.py',
    '../_base_/schedules/schedule_seg_adamw_2k.py', '../_base_/seg_runtime.py'
]
custom_imports = dict(imports=['mmwsss'], allow_failed_imports=False)
crop_size = (256, 256)
num_classes = 11
model = dict(
    data_preprocessor=dict(size=crop_size),
    decode_head=dict(num_classes=num_classes),
    auxiliary_head=dict(num_classes=num_classes))
default_hooks = dict(checkpoint=dict(interval=500))
