# Stage 3 alternative: UNet-S5-D16 + FCN head (mmseg's base model, 32 base channels); same data and
# schedule as deeplabv3plus_r18-d16_1xb8-400_synthetic-pseudo-128x128.py (about 3x slower on CPU).
_base_ = [
    '../_base_/models/fcn_unet_s5-d16.py', '../_base_/datasets/synthetic_defects_seg.py',
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
