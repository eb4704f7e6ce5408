# The default MTD pipeline sized for 2 CPU cores within 2 hours: as racam_lite0_deeplabv3plus-native_mtd.py (RA-CAM,
# GT-free Otsu agreement labels) with a 4-epoch classifier and the small-defect segmenter recipe for both the weak
# segmenter and the fully supervised bound: native resolution, 128 px defect-centred crops, class-balanced sampling,
# CE + per-class Dice, Semantic-FPN decoder, 2000 iterations, bf16 on a CPU with native bf16 (fp16 on a GPU).
_base_ = './racam_lite0_deeplabv3plus-native_mtd.py'
classifier = dict(cfg_options={'train_cfg.max_epochs': 4})
segmenter = dict(
    config='../segmenter/fpn_efficientnet-lite0-d16_in1k-pre_1xb16-2k_mtd-pseudo-native-dcrop128-balanced.py', amp=True)
fully_supervised = dict(
    config='../segmenter/fpn_efficientnet-lite0-d16_in1k-pre_1xb16-2k_mtd-native-dcrop128-balanced.py', amp=True)
