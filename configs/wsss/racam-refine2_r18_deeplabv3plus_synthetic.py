# As gradcam-refine2_r18_deeplabv3plus_synthetic.py with Region-Aware CAM (FGBP + region-aware fusion)
# seeds: the same classifier checkpoint serves both (classifier.checkpoint=... to reuse a trained one).
# RA-CAM's sparse maps sit low: eval_cams.py on the synthetic train split puts its best background threshold
# at 0.02 (Grad-CAM's band is 0.2 / 0.35), so its pseudo-label band is placed there.
_base_ = './gradcam-refine2_r18_deeplabv3plus_synthetic.py'
cam = dict(method='racam', bg_thr=0.02, fg_thr=0.05)
