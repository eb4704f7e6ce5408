# The weakly supervised pipeline on KolektorSDD2 (one defect class; images about 230x630, resized to 256x256):
# ImageNet EfficientNet-Lite0 classifier -> Region-Aware CAM pseudo-labels -> DeepLabV3+ (+ GT-trained reference).
# Put the published data at data_preparation.src (or --cfg-options data_preparation.src=PATH); it is converted to
# data_root on the first run. Pseudo-label thresholds come from each image's own CAM (Otsu): no MTD number.
_base_ = './racam_lite0_deeplabv3plus_mtd.py'
custom_imports = dict(imports=['mmwsss'], allow_failed_imports=False)
dataset_name = 'ksdd2'
data_root = 'data/ksdd2'
data_preparation = dict(_delete_=True, type='ksdd2', src='data/raw/KolektorSDD2', val_fraction=0.1, seed=0)
classifier = dict(config='../classifier/efficientnet-lite0-d16_in1k-pre_1xb16-12e_ksdd2-256x256.py')
segmenter = dict(config='../segmenter/deeplabv3plus_efficientnet-lite0-d16_in1k-pre_1xb8-2k_ksdd2-pseudo-256x256.py', amp=True)
fully_supervised = dict(config='../segmenter/deeplabv3plus_efficientnet-lite0-d16_in1k-pre_1xb8-2k_ksdd2-256x256.py', amp=True)
