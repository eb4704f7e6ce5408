# As gradcam_lite0_deeplabv3plus_mtd.py with Region-Aware CAM seeds (the classifier's FGBPCAMHead +
# RegionAwareWeightingNeck): one field changes the CAM method, the classifier checkpoint is shared
# (classifier.checkpoint=... reuses a trained one).
_base_ = './gradcam_lite0_deeplabv3plus_mtd.py'
cam = dict(method='racam')
