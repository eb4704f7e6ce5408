# The default MTD pipeline sized for 2 CPU cores within 2 hours: as racam_lite0_deeplabv3plus-native_mtd.py (RA-CAM,
# GT-free Otsu agreement labels) with a 4-epoch classifier and the small-defect segmenter recipe for both the weak
# segmenter and the fully supervised bound: native resolution, 128 px defect-centred crops, class-balanced sampling,
# CE + per-class Dice, Semantic-FPN decoder, 2000 iterations (the bound 4000), bf16 on a CPU with native bf16 (fp16
# on a GPU).
_base_ = './racam_lite0_deeplabv3plus-native_mtd.py'
classifier = dict(cfg_options={'train_cfg.max_epochs': 4})
# bf16 + channels_last for both segmenters: 1.15-1.3x per step and 1.6x per validation against bf16 alone. The
# classifier stays fp32: bf16 + channels_last trained it 1.45x faster, but its labels scored lower in the one run
# (defect-mIoU 0.202 against 0.216-0.224 for fp32 runs; docs/results.md (r)).
segmenter = dict(
    config='../segmenter/fpn_efficientnet-lite0-d16_in1k-pre_1xb16-2k_mtd-pseudo-native-dcrop128-balanced.py',
    amp=True, channels_last=True)
# the fully supervised bound: the same recipe on the GT masks, 4000 iterations (on exact masks 2000 are not enough)
fully_supervised = dict(
    config='../segmenter/fpn_efficientnet-lite0-d16_in1k-pre_1xb16-4k_mtd-native-dcrop128-balanced.py',
    amp=True, channels_last=True)
