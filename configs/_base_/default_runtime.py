# Runtime shared by classifier (mmpretrain) and segmenter (mmseg) configs; each top config sets
# default_scope and its visualizer.
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=10),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=1, save_last=True),
    sampler_seed=dict(type='DistSamplerSeedHook'))
env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'))
vis_backends = [dict(type='LocalVisBackend')]  # add dict(type='TensorboardVisBackend') for TensorBoard
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0, deterministic=False)
