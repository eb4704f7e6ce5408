# Image-level labels of MTD (folder names), for the CAM classifier (mmpretrain), class-balanced training draws.
dataset_type = 'MTDClsDataset'
data_root = 'data/mtd'
img_scale = (256, 256)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=False),
    dict(type='RandomFlip', prob=[0.25, 0.25], direction=['horizontal', 'vertical']),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=False),
    dict(type='PackInputs'),
]


def _split(split, pipeline):
    return dict(
        type=dataset_type,
        data_root=data_root,
        ann_file=f'image_labels/{split}.txt',
        data_prefix=dict(img_path=f'img_dir/{split}'),
        pipeline=pipeline)


# defect-free images dominate (666 of 939 train images) and a plain run learns only the prior: images of rare
# defect types are repeated (mmengine ClassBalancedDataset, r(c) = max(1, sqrt(0.3 / f(c))))
train_dataloader = dict(
    batch_size=16,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='ClassBalancedDataset', oversample_thr=0.3, dataset=_split('train', train_pipeline)))
val_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=_split('val', test_pipeline))
test_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=_split('test', test_pipeline))
# the whole training split, unshuffled, at test resolution: what CAMs / pseudo-labels are made from
cam_dataloader = dict(
    batch_size=16,
    num_workers=2,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=_split('train', test_pipeline))
val_evaluator = [dict(type='ExactMatchAccuracy'), dict(type='MultiLabelMetric', average='macro')]
test_evaluator = val_evaluator
del _split
