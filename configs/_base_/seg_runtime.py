# mmseg runtime: default_runtime + mmseg scope, iteration-based logging, segmentation visualizer.
_base_ = ['./default_runtime.py']
default_scope = 'mmseg'
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=25, log_metric_by_epoch=False),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=200, max_keep_ckpts=1),
    visualization=dict(type='SegVisualizationHook'))
log_processor = dict(by_epoch=False)
# mask-free convergence signal: how much the validation predictions changed since the last validation
# (val/defect_change, val/pixel_change; mmwsss/engine/hooks/prediction_change_hook.py)
custom_hooks = [dict(type='PredictionChangeHook')]
# tools/test.py --tta: the test split seen as is and mirrored both ways, class probabilities averaged
tta_model = dict(type='FlipTTAModel')
# local files (vis_data/) + TensorBoard (`tensorboard --logdir <work_dir>`); drop one with
# --cfg-options "visualizer.vis_backends=[dict(type='LocalVisBackend')]"
vis_backends = [dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend')]
# no fixed name: mmengine's Runner then names the visualizer after its run, so a second runner in one process (the
# pipeline's fully supervised stage, a test after a test) gets its own instance and save_dir instead of the first's
visualizer = dict(type='SegLocalVisualizer', vis_backends=vis_backends)
