# Multi-label CAM classifier on NEU-Seg (hot-rolled steel strip; 3 defect types, no defect-free images):
# the MTD recipe (ImageNet EfficientNet-Lite0, class-balanced sampling, AdamW, 12 epochs) on another data set.
_base_ = [
    '../_base_/models/efficientnet-lite0-d16_multilabel.py', '../_base_/datasets/neu-seg_cls.py',
    '../_base_/schedules/schedule_cls_adamw.py', '../_base_/cls_runtime.py'
]
custom_imports = dict(imports=['mmwsss'], allow_failed_imports=False)
model = dict(data_preprocessor=dict(num_classes=3), head=dict(num_classes=3))
