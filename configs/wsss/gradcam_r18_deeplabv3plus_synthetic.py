# The demo (`make demo`): the whole weakly supervised pipeline on the embedded synthetic set.
# classifier: ResNet-18-w32 multi-label (scratch) -> Grad-CAM pseudo-labels -> DeepLabV3+ R-18-d16 (scratch).
custom_imports = dict(imports=['mmwsss'], allow_failed_imports=False)
dataset_name = 'synthetic_defects'
data_root = 'data/synthetic_defects'
# generated (seeded, seconds) when data_root is missing
data_preparation = dict(type='synthetic', spec=dict(size=128, num_train=480, num_val=60, num_test=100, seed=0))
classifier = dict(config='../classifier/resnet18-w32_1xb16-25e_synthetic-128x128.py')
# target_layers apply to methods without a cam_presets entry in the classifier config; pseudo-label thresholds
# from each image's own map (Otsu, no mask needed); explicit numbers: cam=dict(bg_thr=..., fg_thr=..., threshold_rule=None)
cam = dict(method='gradcam', target_layers=['backbone.layer4'], threshold_rule=dict(type='otsu', bg_ratio=0.5))
segmenter = dict(config='../segmenter/deeplabv3plus_r18-d16_1xb8-400_synthetic-pseudo-128x128.py')
report = dict(num_overlays=6)
