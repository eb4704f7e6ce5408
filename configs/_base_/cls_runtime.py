# mmpretrain runtime: default_runtime + mmpretrain scope and visualizer.
_base_ = ['./default_runtime.py']
default_scope = 'mmpretrain'
default_hooks = dict(visualization=dict(type='VisualizationHook', enable=False))
# local files (vis_data/) + TensorBoard (`tensorboard --logdir <work_dir>`)
vis_backends = [dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend')]
visualizer = dict(type='UniversalVisualizer', vis_backends=vis_backends)
