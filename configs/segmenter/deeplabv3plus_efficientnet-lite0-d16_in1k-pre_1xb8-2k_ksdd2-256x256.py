# Fully supervised reference on KolektorSDD2 (one defect class; images about 230x630, resized to 256x256): the same segmenter and schedule on the GT masks.
_base_ = './deeplabv3plus_efficientnet-lite0-d16_in1k-pre_1xb8-2k_ksdd2-pseudo-256x256.py'
custom_imports = dict(imports=['mmwsss'], allow_failed_imports=False)
train_dataloader = dict(dataset=dict(pseudo_label_dir=None))  # the GT masks of the training split
# exact masks: inference undoes the lean of the CE class weights (logit adjustment, docs/results.md (p))
model = dict(type='LogitAdjustedEncoderDecoder')
