# Classifier schedule: AdamW (lr 1e-3, weight decay 0.05) + 1-epoch linear warm-up + cosine decay, epoch based,
# 12 epochs. SGD 0.05 (./schedule_cls_sgd.py, the synthetic recipe) stays at the trivial loss on MTD; AdamW learns.
max_epochs = 12
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=1, eta_min=1e-4, convert_to_iter_based=True),
]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=max_epochs)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=16)
