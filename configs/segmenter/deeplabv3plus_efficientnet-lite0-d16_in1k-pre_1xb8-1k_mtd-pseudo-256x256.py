# Stage 3 on MTD: DeepLabV3+ EfficientNet-Lite0-d16 (ImageNet weights, offline) on CAM pseudo-labels, 256x256, evaluated on the real
# GT masks of the MTD test split (seed-0 stratified split of tools/dataset_converters/mtd.py).
_base_ = [
    '../_base_/models/deeplabv3plus_efficientnet-lite0-d16.py', '../_base_/datasets/mtd_seg.py',
    '../_base_/schedules/schedule_seg_adamw.py', '../_base_/seg_runtime.py'
]
custom_imports = dict(imports=['mmwsss'], allow_failed_imports=False)
crop_size = (256, 256)
num_classes = 6
model = dict(
    data_preprocessor=dict(size=crop_size),
    decode_head=dict(num_classes=num_classes),
    auxiliary_head=dict(num_classes=num_classes))
max_iters = 1000
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(checkpoint=dict(interval=250))
