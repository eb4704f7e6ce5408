# Classifier schedule: AdamW (lr 1e-3, weight decay 0.05), 12 epochs, the warm-up + cosine decay of
# ./schedule_cls_sgd.py. SGD 0.05 (the synthetic recipe) stays at the trivial loss on MTD; AdamW learns.
_base_ = './schedule_cls_sgd.py'
max_epochs = 12
optim_wrapper = dict(optimizer=dict(_delete_=True, type='AdamW', lr=1e-3, weight_decay=0.05))
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
