# Segmentation data of DAGM 2007 (ten textures, class N = ClassN defect; weak ellipse masks),
# converted by tools/dataset_converters/dagm.py into data/dagm: MTD's segmentation data (./mtd_seg.py: 256x256 pipelines,
# PseudoLabelDataset for training, GT masks for validation and test, evaluators) on this data set.
_base_ = './mtd_seg.py'
dataset_type = 'DAGMDataset'
data_root = 'data/dagm'
_data = dict(type=dataset_type, data_root=data_root)
pseudo_label_dir = 'work_dirs/pseudo_labels/dagm'
train_dataloader = dict(dataset=dict(pseudo_label_dir=pseudo_label_dir, dataset=_data))
val_dataloader = dict(dataset=_data)
test_dataloader = dict(dataset=_data)
del _data
