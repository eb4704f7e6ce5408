# ./schedule_seg_adamw.py for 2000 iterations, validated every 500 (the 256x256 weak recipe undertrains at 1000:
# docs/results.md, session 2026-12-02 (g)).
_base_ = './schedule_seg_adamw.py'
max_iters = 2000
train_cfg = dict(max_iters=max_iters, val_interval=500)
