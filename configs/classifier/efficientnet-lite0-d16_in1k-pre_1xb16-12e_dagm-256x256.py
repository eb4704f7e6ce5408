# Multi-label CAM classifier on DAGM 2007 (ten textures, class N = ClassN defect; weak ellipse masks):
# the MTD recipe (ImageNet EfficientNet-Lite0, class-balanced sampling, AdamW, 12 epochs) on another data set.
_base_ = './efficientnet-lite0-d16_in1k-pre_1xb16-12e_mtd-256x256.py'
custom_imports = dict(imports=['mmwsss'], allow_failed_imports=False)
data_root = 'data/dagm'
model = dict(data_preprocessor=dict(num_classes=10), head=dict(num_classes=10))
_data = dict(type='DAGMClsDataset', data_root=data_root)
train_dataloader = dict(dataset=dict(dataset=_data))  # inside ClassBalancedDataset
val_dataloader = dict(dataset=_data)
test_dataloader = dict(dataset=_data)
cam_dataloader = dict(dataset=_data)
del _data
