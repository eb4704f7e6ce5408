# Multi-label defect classifier for CAMs, from scratch (offline default): ResNet-18 at half width
# (32 base channels; 3.6x faster than 64 on CPU) with output stride 16 (last stage not strided) so CAMs
# keep twice the usual resolution, and generalized-mean pooling (p=3, between average and max pooling:
# small defects are not averaged away). The FGBP CAM head pools (the region-aware weighting neck passes the
# features through), so CAM hooks on `backbone.layer4` see them spatially. For full width: backbone.base_channels=64, stem_channels=64,
# head.in_channels=512.
_base_ = '../cam_presets.py'
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
        stem_channels=32,
        base_channels=32,
        num_stages=4,
        strides=(1, 2, 2, 1),
        out_indices=(3, ),
        style='pytorch'),
    # spatial features pass through the neck; the head pools (GeM, p = 3) and draws RA-CAM maps; the neck
    # holds the region-aware fusion options
    # detail from the shallow FGBP maps (gamma 0: no salient-region prior; with the image-adaptive refinement the
    # prior lost to its ablation on MTD and on the synthetic set, docs/results.md; racam_prior restores it)
    neck=dict(type='RegionAwareWeightingNeck', fusion='sum', prior='gate', gamma=0.0, detail_weight=1.0),
    head=dict(
        type='FGBPCAMHead',
        num_classes=3,
        in_channels=256,
        thr=0.5,
        pooling=dict(type='GeneralizedMeanPooling', p=3.0),
        cam_method='racam',
        # maps of layer2 (stride 8) and of layer4 (stride 16; the region prior when the neck's gamma > 0); FGBP
        # (top half of g*a, positive gradients) at every ReLU below layer4, whose own map keeps the raw gradient.
        # The stride-4 layer1 (preset racam_s4): both weak segmenters were better without it (docs/results.md (j), (k))
        cam_cfg=dict(
            target_layers=['backbone.layer2', 'backbone.layer4'],
            q=0.5,
            criterion='grad_x_act',
            guided=True,
            filter_points='relu',
            filter_deepest=False,
            # image-adaptive refinement of the fused map (PixelAdaptiveRefinement, training-free); pseudo-labels
            # where the raw and the refined map's labels agree, 255 elsewhere (labels='refined': the refined map's)
            refine=dict(labels='agree')),
        loss=dict(type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0)))
# CAM settings read by tools/generate_pseudo_labels.py and the pipeline (CLI / pipeline config override)
cam = dict(method='gradcam', target_layers=['backbone.layer4'], threshold_rule=dict(type='otsu', bg_ratio=0.5))
# baselines (`cam.method` or eval_cams --methods) use cam.target_layers unless a preset says otherwise
# presets with this backbone's layers, besides the shared ones of ../cam_presets.py
cam_presets = dict(
    layercam=dict(target_layers=['backbone.layer1', 'backbone.layer2', 'backbone.layer3', 'backbone.layer4']),
    racam_deep=dict(method='racam', target_layers=['backbone.layer4']),  # single (deep) layer
    racam_s8=dict(method='racam', target_layers=['backbone.layer2', 'backbone.layer4']),  # the default's layers
    # the earlier default: stride-4 and stride-8 detail layers (FGBP's backward pass down to stride 4)
    racam_s4=dict(method='racam', target_layers=['backbone.layer1', 'backbone.layer2', 'backbone.layer4']),
)
