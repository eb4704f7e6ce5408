# The demo's segmenter (make demo) with the small-defect recipe of the MTD configs: class-balanced image sampling from
# the image labels (ClassBalancedSampler, square root), CE (defects x5) + per-class Dice, rot90 / flips, 800 iterations;
# otherwise as ./deeplabv3plus_r18-d16_1xb8-400_synthetic-pseudo-128x128.py (R-18-d16 from scratch, 128 px). Trained on
# the GT masks (pseudo_label_dir=None) it learns every synthetic class by 800 iterations (val defect-mIoU 0.59; 400
# iterations: 0.15, scratch and pit 0).
_base_ = './deeplabv3plus_r18-d16_1xb8-400_synthetic-pseudo-128x128.py'
custom_imports = dict(imports=['mmwsss'], allow_failed_imports=False)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=(128, 128), ratio_range=(0.75, 1.5), keep_ratio=True),
    dict(type='RandomCrop', crop_size=(128, 128), cat_max_ratio=1.0),
    dict(type='RandomRot90', prob=0.75),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackSegInputs'),
]
model = dict(
    decode_head=dict(loss_decode=[
        dict(type='WeightedCrossEntropyLoss', defect_weight=5.0, loss_weight=1.0, loss_name='loss_ce'),
        dict(type='ClassDiceLoss', loss_weight=1.0, loss_name='loss_dice')
    ]))
train_dataloader = dict(
    sampler=dict(_delete_=True, type='ClassBalancedSampler', power=0.5),
    dataset=dict(dataset=dict(pipeline=train_pipeline)))
max_iters = 800
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
