# Fully supervised bound of deeplabv3plus_efficientnet-lite0-d16_in1k-pre_1xb16-2k_mtd-pseudo-native-dcrop128.py: the
# same model, recipe and schedule trained on the GT masks of the training split.
_base_ = './deeplabv3plus_efficientnet-lite0-d16_in1k-pre_1xb16-2k_mtd-pseudo-native-dcrop128.py'
custom_imports = dict(imports=['mmwsss'], allow_failed_imports=False)
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type={{_base_.dataset_type}},
        data_root={{_base_.data_root}},
        ann_file='image_labels/train.txt',
        data_prefix=dict(img_path='img_dir/train', seg_map_path='ann_dir/train'),
        pipeline={{_base_.train_pipeline}}))
