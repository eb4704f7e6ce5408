# Multi-label defect classifier (stage 1) on the embedded synthetic set: ResNet-18 (32 base channels,
# output stride 16, GeM pooling) from scratch, SGD 25 epochs.
_base_ = [
    '../_base_/models/resnet18_multilabel.py', '../_base_/datasets/synthetic_defects_cls.py',
    '../_base_/schedules/schedule_cls_sgd.py', '../_base_/cls_runtime.py'
]
custom_imports = dict(imports=['mmwsss'], allow_failed_imports=False)
max_epochs = 25
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
