# Segmentation data of MTD at native resolution (mmseg). Training: the image rescaled by 0.8-1.25 of its own
# size (aspect ratio kept), random 256x256 crops that favour defect pixels (cat_max_ratio), rot90 + flips (tiles
# have no orientation), photometric distortion. Inference: the whole image at native size (padded to /32 by the
# model's data preprocessor). Training serves pseudo-labels through PseudoLabelDataset; val and test use the
# GT masks (evaluation only).
dataset_type = 'MTDDataset'
data_root = 'data/mtd'
pseudo_label_dir = 'work_dirs/pseudo_labels/mtd'
crop_size = (256, 256)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomRescale', ratio_range=(0.8, 1.25)),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomRot90', prob=0.75),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PhotoMetricDistortion', brightness_delta=24, contrast_range=(0.75, 1.25),
         saturation_range=(1.0, 1.0), hue_delta=1),  # grey images: no colour jitter
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
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
test_evaluator = val_evaluator
del _split
