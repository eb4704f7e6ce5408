# The weakly supervised pipeline on MTD (magnetic tile defects; Huang, Qiu and Yuan, The Visual Computer
# 2020): ResNet-18-w32 multi-label (scratch, 256 px) -> Grad-CAM pseudo-labels -> DeepLabV3+ R-18-d16.
# data_root is converted from the published data at data_preparation.src when missing (seed 0, 0.7/0.1/0.2 per
# folder): put (or link) the unpacked Magnetic-tile-defect-datasets folder at data/raw/MTD, or pass
# --cfg-options data_preparation.src=PATH.
custom_imports = dict(imports=['mmwsss'], allow_failed_imports=False)
dataset_name = 'mtd'
data_root = 'data/mtd'
data_preparation = dict(type='mtd', src='data/raw/MTD', seed=0, ratios=(0.7, 0.1, 0.2))
classifier = dict(config='../classifier/resnet18-w32_1xb16-12e_mtd-256x256.py')
# target_layers apply to methods without a cam_presets entry in the classifier config; pseudo-label thresholds
# from each image's own map (Otsu, no mask needed); explicit numbers: cam=dict(bg_thr=..., fg_thr=..., threshold_rule=None)
cam = dict(method='gradcam', target_layers=['backbone.layer4'], threshold_rule=dict(type='otsu', bg_ratio=0.5))
segmenter = dict(config='../segmenter/deeplabv3plus_r18-d16_1xb8-1k_mtd-pseudo-256x256.py')
report = dict(num_overlays=6)
