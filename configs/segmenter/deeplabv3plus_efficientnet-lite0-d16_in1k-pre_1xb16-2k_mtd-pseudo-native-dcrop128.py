# Small-defect recipe, defect-centred crops: as ./deeplabv3plus_efficientnet-lite0-d16_in1k-pre_1xb8-1k_mtd-pseudo-native-crop256.py
# (native resolution, rot90 + flips, photometric distortion, CE x5 + per-class Dice, whole-image inference) but
# trained on 128x128 crops that hold a defect pixel half of the time (DefectCenteredCrop), batch 16, 2000
# iterations: the same pixels per run as 1000 x 8 x 256^2, four times the views of each small defect.
_base_ = './deeplabv3plus_efficientnet-lite0-d16_in1k-pre_1xb8-1k_mtd-pseudo-native-crop256.py'
custom_imports = dict(imports=['mmwsss'], allow_failed_imports=False)
crop_size = (128, 128)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomRescale', ratio_range=(0.8, 1.25)),
    dict(type='DefectCenteredCrop', crop_size=crop_size, prob=0.5),
    dict(type='RandomRot90', prob=0.75),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PhotoMetricDistortion', brightness_delta=24, contrast_range=(0.75, 1.25),
         saturation_range=(1.0, 1.0), hue_delta=1),  # grey images: no colour jitter
    dict(type='PackSegInputs'),
]
model = dict(data_preprocessor=dict(size=crop_size))
train_dataloader = dict(batch_size=16, dataset=dict(dataset=dict(pipeline=train_pipeline)))
max_iters = 2000
train_cfg = dict(max_iters=max_iters, val_interval=500)  # val curve: is it flat?
default_hooks = dict(checkpoint=dict(interval=500))
