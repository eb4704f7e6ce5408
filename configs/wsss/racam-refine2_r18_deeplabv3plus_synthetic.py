# As gradcam-refine2_r18_deeplabv3plus_synthetic.py with Region-Aware CAM (FGBP + region-aware fusion)
# seeds: the same classifier checkpoint serves both (classifier.checkpoint=... to reuse a trained one).
# GT-free per-image Otsu thresholds, as the demo.
_base_ = './gradcam-refine2_r18_deeplabv3plus_synthetic.py'
cam = dict(_delete_=True, method='racam', threshold_rule=dict(type='otsu', bg_ratio=0.5))
