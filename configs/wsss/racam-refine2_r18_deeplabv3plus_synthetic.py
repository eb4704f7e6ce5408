# As gradcam-refine2_r18_deeplabv3plus_synthetic.py with Region-Aware CAM (FGBP + region-aware fusion)
# seeds: the same classifier checkpoint serves both (classifier.checkpoint=... to reuse a trained one).
_base_ = './gradcam-refine2_r18_deeplabv3plus_synthetic.py'
cam = dict(method='racam')
