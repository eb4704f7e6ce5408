# The fully supervised MTD bound with a stride-2 FPN level: ./fpn_efficientnet-lite0-d16_in1k-pre_1xb16-4k_mtd-native-
# dcrop128-balanced.py (the pipeline's bound) plus the 16-channel stride-2 stage of EfficientNet-Lite0 as a fifth FPN
# input, so the decoder predicts at stride 2 instead of 4 (the stride ceiling of MTD cracks: 0.72 at stride 4, 0.96 at
# stride 2; docs/results.md (p)). 1.2-1.3x the time per step. One run (docs/results.md (s)): MTD test 0.686 / 0.625
# against 0.670 / 0.606 (blowhole .615 vs .551), but val ties (0.617 vs 0.618) and so does TTA (0.685 vs 0.688), so it
# is an option, not the pipeline's bound: `--cfg-options fully_supervised.config=<this file>` on the MTD pipeline.
_base_ = './fpn_efficientnet-lite0-d16_in1k-pre_1xb16-4k_mtd-native-dcrop128-balanced.py'
custom_imports = dict(imports=['mmwsss'], allow_failed_imports=False)
model = dict(
    backbone=dict(out_indices=(1, 2, 3, 4, 8)),  # layers.1: stride 2, 16 channels
    neck=dict(in_channels=[16, 24, 40, 80, 1280], num_outs=5),
    decode_head=dict(
        in_channels=[{{_base_.fpn_channels}}] * 5, in_index=[0, 1, 2, 3, 4], feature_strides=[2, 4, 8, 16, 16]),
    auxiliary_head=dict(in_index=3))  # the stride-16 level, as in the stride-4 recipe (in_index=2 of 4)
