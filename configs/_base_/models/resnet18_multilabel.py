# Multi-label defect classifier for CAMs, from scratch (offline default): ResNet-18 at half width
# (32 base channels; 3.6x faster than 64 on CPU) with output stride 16 (last stage not strided) so CAMs
# keep twice the usual resolution, and generalized-mean pooling (p=3, between average and max pooling:
# small defects are not averaged away). Features are pooled only in the neck, so CAM hooks on
# `backbone.layer4` see them spatially. For full width: backbone.base_channels=64, stem_channels=64,
# head.in_channels=512.
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
    neck=dict(type='GeneralizedMeanPooling', p=3.0),
    head=dict(
        type='MultiLabelLinearClsHead',
        num_classes=3,
        in_channels=256,
        thr=0.5,
        loss=dict(type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0)))
# CAM settings read by tools/generate_pseudo_labels.py and the pipeline (CLI / pipeline config override)
cam = dict(method='gradcam', target_layers=['backbone.layer4'], bg_thr=0.3, fg_thr=0.5)
# Per-method settings (target layers, options) used when a method is chosen by name; `cam.kwargs` in a
# pipeline config overrides them. RA-CAM: shallow detail from layer1/layer2 (strides 4, 8) inside the
# salient region of layer4 (stride 16), gate prior with gamma 0.5; FGBP at every ReLU below layer4.
_racam = dict(
    target_layers=['backbone.layer1', 'backbone.layer2', 'backbone.layer4'],
    q=0.5,
    criterion='grad_x_act',
    guided=True,
    filter_points='relu',
    filter_deepest=False,
    fusion='sum',
    prior='gate',
    gamma=0.5,
    detail_weight=1.0)
cam_presets = dict(
    layercam=dict(target_layers=['backbone.layer1', 'backbone.layer2', 'backbone.layer3', 'backbone.layer4']),
    racam=_racam,
    scorecam=dict(max_channels=32),
    # RA-CAM ablations (tools/analysis_tools/eval_cams.py --methods racam racam_nofilter ...): one change each
    racam_nofilter=dict(_racam, method='racam', q=None, guided=False),
    racam_fgbp_all=dict(_racam, method='racam', filter_deepest=True),
    racam_q80=dict(_racam, method='racam', q=0.8),
    racam_noprior=dict(_racam, method='racam', gamma=0.0),
    racam_deep=dict(_racam, method='racam', target_layers=['backbone.layer4']),
    racam_extent=dict(_racam, method='racam', extent_scale=0.1),
    racam_ms=dict(_racam, method='racam', scales=[1.0, 1.5], flip=True),  # multi-scale + flip (MultiScaleCAM)
)
