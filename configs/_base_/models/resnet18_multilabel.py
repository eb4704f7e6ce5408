# Multi-label defect classifier for CAMs: ResNet-18 from scratch (offline default), output stride 16
# (last stage not strided) so CAMs keep twice the usual resolution; features are pooled only in the
# neck, so CAM hooks on `backbone.layer4` see them spatially.
model = dict(
    type='ImageClassifier',
    data_preprocessor=dict(
        num_classes=3,
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True),
    backbone=dict(
        type='ResNet',
        depth=18,
        num_stages=4,
        strides=(1, 2, 2, 1),
        out_indices=(3, ),
        style='pytorch'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='MultiLabelLinearClsHead',
        num_classes=3,
        in_channels=512,
        thr=0.5,
        loss=dict(type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0)))
# CAM settings read by tools/generate_pseudo_labels.py (CLI flags override them)
cam = dict(method='gradcam', target_layers=['backbone.layer4'], bg_thr=0.3, fg_thr=0.5)
