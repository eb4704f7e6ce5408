# Fully supervised upper bound: the same model, schedule and data as deeplabv3plus_r18-d16_1xb8-1k_mtd-pseudo-256x256.py, trained on the GT masks of
# the training split instead of the pseudo-labels.
_base_ = './deeplabv3plus_r18-d16_1xb8-1k_mtd-pseudo-256x256.py'
custom_imports = dict(imports=['mmwsss'], allow_failed_imports=False)
train_dataloader = dict(dataset=dict(pseudo_label_dir=None))  # the GT masks of the training split
# exact masks: inference undoes the lean of the CE class weights (logit adjustment, docs/results.md (p))
model = dict(type='LogitAdjustedEncoderDecoder')
