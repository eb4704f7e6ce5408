# Segmentation data of KolektorSDD2 (one defect class; images about 230x630),
# converted by tools/dataset_converters/ksdd2.py into data/ksdd2: MTD's segmentation data (./mtd_seg.py: 256x256 pipelines,
# PseudoLabelDataset for training, GT masks for validation and test, evaluators) on this data set.
_base_ = './mtd_seg.py'
dataset_type = 'KSDD2Dataset'
data_root = 'data/ksdd2'
_data = dict(type=dataset_type, data_root=data_root)
pseudo_label_dir = 'work_dirs/pseudo_labels/ksdd2'
train_dataloader = dict(dataset=dict(pseudo_label_dir=pseudo_label_dir, dataset=_data))
val_dataloader = dict(dataset=_data)
test_dataloader = dict(dataset=_data)
del _data
