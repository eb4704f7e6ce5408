# DeepLabV3+ EfficientNet-Lite0-d16 on CAM pseudo-labels of NEU-Seg (hot-rolled steel strip; 3 defect types, no defect-free images);
# evaluated on the GT masks of the test split. Same model and schedule as the MTD config.
_base_ = './deeplabv3plus_efficientnet-lite0-d16_in1k-pre_1xb8-1k_mtd-pseudo-256x256.py'
custom_imports = dict(imports=['mmwsss'], allow_failed_imports=False)
data_root = 'data/neu_seg'
model = dict(decode_head=dict(num_classes=4), auxiliary_head=dict(num_classes=4))
_data = dict(type='NEUSegDataset', data_root=data_root)
val_dataloader = dict(dataset=_data)
test_dataloader = dict(dataset=_data)
train_dataloader = dict(dataset=dict(dataset=_data))  # inside PseudoLabelDataset
del _data
