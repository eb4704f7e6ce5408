# Fully supervised reference on NEU-Seg (hot-rolled steel strip; 3 defect types, no defect-free images): the same segmenter and schedule on the GT masks.
_base_ = './deeplabv3plus_efficientnet-lite0-d16_in1k-pre_1xb8-2k_neu-seg-pseudo-256x256.py'
custom_imports = dict(imports=['mmwsss'], allow_failed_imports=False)
train_dataloader = dict(dataset=dict(pseudo_label_dir=None))  # the GT masks of the training split
# exact masks: inference undoes the lean of the CE class weights (logit adjustment, docs/results.md (p))
model = dict(type='LogitAdjustedEncoderDecoder')
