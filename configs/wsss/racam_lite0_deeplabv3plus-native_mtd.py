# As racam_lite0_deeplabv3plus_mtd.py with the small-defect segmenter recipe: native-resolution 256x256 crops,
# rot90 + flips, CE + per-class Dice, 3000 iterations, whole-image inference at native size (bf16 on the CPU
# when the segmenter config is trained with --amp; see configs/segmenter/*native-crop256.py).
_base_ = './racam_lite0_deeplabv3plus_mtd.py'
segmenter = dict(
    config='../segmenter/deeplabv3plus_efficientnet-lite0-d16_in1k-pre_1xb8-3k_mtd-pseudo-native-crop256.py')
fully_supervised = dict(
    config='../segmenter/deeplabv3plus_efficientnet-lite0-d16_in1k-pre_1xb8-3k_mtd-native-crop256.py')
