# As ./racam_lite0_deeplabv3plus_dagm.py (the set converted on first use, Otsu thresholds, the classifier's own
# 12-epoch schedule) with the small-defect segmenter recipe of the MTD pipeline for both the weak segmenter and the
# fully supervised reference: one recipe on every data set (on MTD, fully supervised 0.620 against 0.426 for
# DeepLabV3+ at 256x256; docs/results.md). Not measured on this set: it is not on the machine the numbers come from.
_base_ = './racam_lite0_deeplabv3plus_dagm.py'
custom_imports = dict(imports=['mmwsss'], allow_failed_imports=False)
# bf16 for both segmenters, channels_last for the fully supervised one, as the MTD pipeline
segmenter = dict(config='../segmenter/fpn_efficientnet-lite0-d16_in1k-pre_1xb16-2k_dagm-pseudo-native-dcrop128-balanced.py',
    amp=True)
fully_supervised = dict(config='../segmenter/fpn_efficientnet-lite0-d16_in1k-pre_1xb16-2k_dagm-native-dcrop128-balanced.py',
    amp=True, channels_last=True)
