# The demo (`make demo`): the whole weakly supervised pipeline on the embedded synthetic set with this project's
# method. Region-Aware CAM pseudo-labels (FGBP + region-aware fusion; its sparse maps put the best band at
# 0.02 / 0.05 on this set, eval_cams.py) train the segmenter; Grad-CAM's pseudo-labels from the same classifier
# (its own band 0.2 / 0.35) are scored beside them, not trained on: results.md names both.
_base_ = './gradcam_r18_deeplabv3plus_synthetic.py'
cam = dict(method='racam', bg_thr=0.02, fg_thr=0.05,
           compare=[dict(method='gradcam', target_layers=['backbone.layer4'], bg_thr=0.2, fg_thr=0.35)])
