# Stage 3 on MTD, small-defect recipe: DeepLabV3+ EfficientNet-Lite0-d16 (ImageNet weights, offline) trained on
# 256x256 crops at native resolution (../_base_/datasets/mtd_seg_native.py), CE (defects x5) + per-class Dice,
# 1000 iterations; whole-image inference at native size. bf16 autocast on the CPU with --amp.
_base_ = [
    '../_base_/models/deeplabv3plus_efficientnet-lite0-d16.py', '../_base_/datasets/mtd_seg_native.py',
    '../_base_/schedules/schedule_seg_adamw.py', '../_base_/seg_runtime.py'
]
custom_imports = dict(imports=['mmwsss'], allow_failed_imports=False)
crop_size = (256, 256)
num_classes = 6
model = dict(
    data_preprocessor=dict(size=crop_size, test_cfg=dict(size_divisor=32)),
    decode_head=dict(
        num_classes=num_classes,
        loss_decode=[
            dict(type='WeightedCrossEntropyLoss', defect_weight=5.0, loss_weight=1.0, loss_name='loss_ce'),
            dict(type='ClassDiceLoss', loss_weight=1.0, loss_name='loss_dice')
        ]),
    auxiliary_head=dict(num_classes=num_classes))
max_iters = 1000
train_cfg = dict(max_iters=max_iters, val_interval=250)  # val curve: is it flat?
default_hooks = dict(checkpoint=dict(interval=250, max_keep_ckpts=1, save_best='mIoU'))
