# Stage 3 on the embedded synthetic set: DeepLabV3+ R-18-d16 (from scratch) trained on CAM pseudo-labels
# (PseudoLabelDataset), evaluated on the real GT masks of the test split.
# Standalone: python tools/train.py THIS --cfg-options train_dataloader.dataset.pseudo_label_dir=DIR
_base_ = [
    '../_base_/models/deeplabv3plus_r18-d16.py', '../_base_/datasets/synthetic_defects_seg.py',
    '../_base_/schedules/schedule_seg_adamw.py', '../_base_/seg_runtime.py'
]
custom_imports = dict(imports=['mmwsss'], allow_failed_imports=False)
crop_size = (128, 128)
num_classes = 4
model = dict(
    data_preprocessor=dict(size=crop_size),
    decode_head=dict(num_classes=num_classes),
    auxiliary_head=dict(num_classes=num_classes))
max_iters = 400
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
