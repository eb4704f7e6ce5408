# The weakly supervised pipeline on NEU-Seg (hot-rolled steel strip; 3 defect types, no defect-free images):
# ImageNet EfficientNet-Lite0 classifier -> Region-Aware CAM pseudo-labels -> DeepLabV3+ (+ GT-trained reference).
# Put the published data at data_preparation.src (or --cfg-options data_preparation.src=PATH); it is converted to
# data_root on the first run. Pseudo-label thresholds come from each image's own CAM (Otsu): no MTD number.
_base_ = './racam_lite0_deeplabv3plus_mtd.py'
custom_imports = dict(imports=['mmwsss'], allow_failed_imports=False)
dataset_name = 'neu_seg'
data_root = 'data/neu_seg'
data_preparation = dict(_delete_=True, type='neu_seg', src='data/raw/NEU_Seg', val_fraction=0.1, seed=0)
# NEU-Seg has no defect-free images: the classifier is multi-label over the defect types only
require_defect_free = False
classifier = dict(config='../classifier/efficientnet-lite0-d16_in1k-pre_1xb16-12e_neu-seg-256x256.py')
segmenter = dict(config='../segmenter/deeplabv3plus_efficientnet-lite0-d16_in1k-pre_1xb8-2k_neu-seg-pseudo-256x256.py', amp=True)
fully_supervised = dict(config='../segmenter/deeplabv3plus_efficientnet-lite0-d16_in1k-pre_1xb8-2k_neu-seg-256x256.py', amp=True)
