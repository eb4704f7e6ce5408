# As gradcam_lite0_deeplabv3plus_mtd.py with Region-Aware CAM seeds (the classifier's FGBPCAMHead +
# RegionAwareWeightingNeck, image-adaptive refinement included): one field changes the CAM method, the
# classifier checkpoint is shared (classifier.checkpoint=... reuses a trained one). Pseudo-label thresholds come
# from each image's own map (Otsu's threshold t: defect from t, background below t / 2, 255 between;
# mmwsss/cam/threshold_rules.py): no mask and no MTD-tuned number.
_base_ = './gradcam_lite0_deeplabv3plus_mtd.py'
cam = dict(_delete_=True, method='racam', threshold_rule=dict(type='otsu', bg_ratio=0.5))
