# Segmentation data of MTD at native resolution (mmseg): ./mtd_seg.py (data, splits, loaders, evaluator) with other
# pipelines. Training: the image rescaled by 0.8-1.25 of its own size (aspect ratio kept), random 256x256 crops
# that favour defect pixels (cat_max_ratio), rot90 + flips (tiles have no orientation), photometric distortion.
# Inference: the whole image at native size (padded to /32 by the model's data preprocessor).
_base_ = './mtd_seg.py'
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
train_dataloader = dict(dataset=dict(dataset=dict(pipeline=train_pipeline)))  # inside PseudoLabelDataset
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
