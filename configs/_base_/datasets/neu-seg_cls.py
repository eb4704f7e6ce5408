# Image-level labels of NEU-Seg (hot-rolled steel strip; 3 defect types, no defect-free images),
# converted by tools/dataset_converters/neu_seg.py into data/neu_seg: MTD's classifier data (./mtd_cls.py: pipelines, class-balanced
# training draws, loaders, evaluators) on this data set.
_base_ = './mtd_cls.py'
dataset_type = 'NEUSegClsDataset'
data_root = 'data/neu_seg'
_data = dict(type=dataset_type, data_root=data_root)
train_dataloader = dict(dataset=dict(dataset=_data))  # inside ClassBalancedDataset
val_dataloader = dict(dataset=_data)
test_dataloader = dict(dataset=_data)
cam_dataloader = dict(dataset=_data)
del _data
