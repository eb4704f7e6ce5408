# As gradcam_lite0_deeplabv3plus_mtd.py with Region-Aware CAM seeds (the classifier's FGBPCAMHead +
# RegionAwareWeightingNeck): one field changes the CAM method, the classifier checkpoint is shared
# (classifier.checkpoint=... reuses a trained one).
# RA-CAM maps are sparse (fine detail gated by the deep region), so their scores sit lower than Grad-CAM's:
# eval_cams.py on the MTD train split puts RA-CAM's best background threshold at 0.05-0.10 and Grad-CAM's at
# 0.55; each method's pseudo-label band is placed at its own best threshold.
_base_ = './gradcam_lite0_deeplabv3plus_mtd.py'
cam = dict(method='racam', bg_thr=0.05, fg_thr=0.1)
