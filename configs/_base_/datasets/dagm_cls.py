# Image-level labels of DAGM 2007 (ten textures, class N = ClassN defect; weak ellipse masks),
# converted by tools/dataset_converters/dagm.py into data/dagm: MTD's classifier data (./mtd_cls.py: pipelines, class-balanced
# training draws, loaders, evaluators) on this data set.
_base_ = './mtd_cls.py'
dataset_type = 'DAGMClsDataset'
data_root = 'data/dagm'
_data = dict(type=dataset_type, data_root=data_root)
train_dataloader = dict(dataset=dict(dataset=_data))  # inside ClassBalancedDataset
val_dataloader = dict(dataset=_data)
test_dataloader = dict(dataset=_data)
cam_dataloader = dict(dataset=_data)
del _data
