# Image-level labels of KolektorSDD2 (one defect class; images about 230x630),
# converted by tools/dataset_converters/ksdd2.py into data/ksdd2: MTD's classifier data (./mtd_cls.py: pipelines, class-balanced
# training draws, loaders, evaluators) on this data set.
_base_ = './mtd_cls.py'
dataset_type = 'KSDD2ClsDataset'
data_root = 'data/ksdd2'
_data = dict(type=dataset_type, data_root=data_root)
train_dataloader = dict(dataset=dict(dataset=_data))  # inside ClassBalancedDataset
val_dataloader = dict(dataset=_data)
test_dataloader = dict(dataset=_data)
cam_dataloader = dict(dataset=_data)
del _data
