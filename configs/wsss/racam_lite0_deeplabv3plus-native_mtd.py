# As racam_lite0_deeplabv3plus_mtd.py with the small-defect segmenter recipe: native-resolution 256x256 crops,
# rot90 + flips, CE + per-class Dice, 1000 iterations, whole-image inference at native size (bf16 on the CPU
# with amp=True: mixed precision as tools/train.py --amp, measured 1.77x on this CPU; fp16 on a GPU).
_base_ = './racam_lite0_deeplabv3plus_mtd.py'
segmenter = dict(
    config='../segmenter/deeplabv3plus_efficientnet-lite0-d16_in1k-pre_1xb8-1k_mtd-pseudo-native-crop256.py', amp=True)
fully_supervised = dict(
    config='../segmenter/deeplabv3plus_efficientnet-lite0-d16_in1k-pre_1xb8-1k_mtd-native-crop256.py', amp=True)
