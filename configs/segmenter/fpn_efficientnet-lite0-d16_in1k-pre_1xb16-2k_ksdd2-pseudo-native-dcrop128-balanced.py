# The small-defect recipe of the MTD pipeline and of the folder converter's generated configs
# (./fpn_efficientnet-lite0-d16_in1k-pre_1xb16-2k_mtd-pseudo-native-dcrop128-balanced.py: native resolution, 128 px defect-centred crops,
# class-balanced sampling, CE + per-class Dice, Semantic-FPN decoder, 2000 it.) on CAM pseudo-labels of
# KolektorSDD2 (one defect class; images about 230x630); evaluated on the GT masks of the test split. Only the data set's identity differs.
_base_ = './fpn_efficientnet-lite0-d16_in1k-pre_1xb16-2k_mtd-pseudo-native-dcrop128-balanced.py'
custom_imports = dict(imports=['mmwsss'], allow_failed_imports=False)
dataset_type = 'KSDD2Dataset'
data_root = 'data/ksdd2'
pseudo_label_dir = 'work_dirs/pseudo_labels/ksdd2'
num_classes = 2
model = dict(decode_head=dict(num_classes=num_classes), auxiliary_head=dict(num_classes=num_classes))
_data = dict(type=dataset_type, data_root=data_root)
train_dataloader = dict(dataset=dict(pseudo_label_dir=pseudo_label_dir, dataset=_data))
val_dataloader = dict(dataset=_data)
test_dataloader = dict(dataset=_data)
del _data
