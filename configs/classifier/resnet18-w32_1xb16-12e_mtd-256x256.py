# Multi-label defect classifier (stage 1) on MTD (5 defect types; MT_Free = no label), ResNet-18 (32 base
# channels, output stride 16, GeM pooling) from scratch at 256x256. Defect-free images dominate (666 of
# 939 train images) and a plain run learns only the prior (predicts no defect at all): images of rare
# defect types are repeated (mmengine ClassBalancedDataset, r(c) = max(1, sqrt(0.3 / f(c)))).
_base_ = [
    '../_base_/models/resnet18_multilabel.py', '../_base_/datasets/mtd_cls.py',
    '../_base_/schedules/schedule_cls_adamw.py', '../_base_/cls_runtime.py'
]
custom_imports = dict(imports=['mmwsss'], allow_failed_imports=False)
model = dict(data_preprocessor=dict(num_classes=5), head=dict(num_classes=5))
