# Segmentation data of NEU-Seg (hot-rolled steel strip; 3 defect types, no defect-free images),
# converted by tools/dataset_converters/neu_seg.py into data/neu_seg: MTD's segmentation data (./mtd_seg.py: 256x256 pipelines,
# PseudoLabelDataset for training, GT masks for validation and test, evaluators) on this data set.
_base_ = './mtd_seg.py'
dataset_type = 'NEUSegDataset'
data_root = 'data/neu_seg'
_data = dict(type=dataset_type, data_root=data_root)
pseudo_label_dir = 'work_dirs/pseudo_labels/neu_seg'
train_dataloader = dict(dataset=dict(pseudo_label_dir=pseudo_label_dir, dataset=_data))
val_dataloader = dict(dataset=_data)
test_dataloader = dict(dataset=_data)
del _data
