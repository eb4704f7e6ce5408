# Fully supervised reference on KolektorSDD2 (one defect class; images about 230x630, resized to 256x256): the same segmenter and schedule on the GT masks.
_base_ = './deeplabv3plus_efficientnet-lite0-d16_in1k-pre_1xb8-1k_mtd-256x256.py'
custom_imports = dict(imports=['mmwsss'], allow_failed_imports=False)
data_root = 'data/ksdd2'
model = dict(decode_head=dict(num_classes=2), auxiliary_head=dict(num_classes=2))
_data = dict(type='KSDD2Dataset', data_root=data_root)
val_dataloader = dict(dataset=_data)
test_dataloader = dict(dataset=_data)
train_dataloader = dict(dataset=_data)
del _data
