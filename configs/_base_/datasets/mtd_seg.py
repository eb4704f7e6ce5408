# Segmentation data of MTD (mmseg). Training serves pseudo-labels through
# PseudoLabelDataset; validation and test use the real GT masks (evaluation only).
dataset_type = 'MTDDataset'
data_root = 'data/mtd'
pseudo_label_dir = 'work_dirs/pseudo_labels/mtd'
img_scale = (256, 256)
crop_size = (256, 256)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=img_scale, ratio_range=(0.75, 1.5), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=1.0),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=False),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]


def _split(split, pipeline):
    return dict(
        type=dataset_type,
        data_root=data_root,
        ann_file=f'image_labels/{split}.txt',
        data_prefix=dict(img_path=f'img_dir/{split}', seg_map_path=f'ann_dir/{split}'),
        pipeline=pipeline)


train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='PseudoLabelDataset',
        pseudo_label_dir=pseudo_label_dir,
        dataset=_split('train', train_pipeline)))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=_split('val', test_pipeline))
test_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=_split('test', test_pipeline))
val_evaluator = dict(type='DefectIoUMetric', iou_metrics=['mIoU'])
test_evaluator = [val_evaluator, dict(type='PixelLevelMetric')]  # + pixel AUROC / AUPRO / F1-max (anomalib)
del _split
