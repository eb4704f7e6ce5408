# The mask-free MTD pipeline with the small-defect segmenter recipe: GT-free (Otsu) RA-CAM pseudo-labels
# (./racam-otsu_lite0_deeplabv3plus-native_mtd.py), segmenter and fully supervised bound on 128x128 crops that hold
# a defect pixel half of the time, class-balanced image sampling from the image labels, 2000 iterations, bf16.
# Measured stage by stage (docs/results.md, 2026-12-02): test mIoU 0.293 weak / 0.497 fully supervised.
_base_ = './racam-otsu_lite0_deeplabv3plus-native_mtd.py'
custom_imports = dict(imports=['mmwsss'], allow_failed_imports=False)
segmenter = dict(
    config='../segmenter/deeplabv3plus_efficientnet-lite0-d16_in1k-pre_1xb16-2k_mtd-pseudo-native-dcrop128-balanced.py',
    amp=True)
fully_supervised = dict(
    config='../segmenter/deeplabv3plus_efficientnet-lite0-d16_in1k-pre_1xb16-2k_mtd-native-dcrop128-balanced.py',
    amp=True)
