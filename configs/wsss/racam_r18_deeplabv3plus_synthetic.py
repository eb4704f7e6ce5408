# The demo (`make demo`): the whole weakly supervised pipeline on the embedded synthetic set with this project's
# method. Region-Aware CAM pseudo-labels (FGBP + region-aware fusion + image-adaptive refinement; GT-free per-image
# Otsu thresholds) train the segmenter (the small-defect recipe: class-balanced sampling, CE + Dice, 1400 iterations)
# whose backbone starts from the trained classifier (same architecture, image labels only); Grad-CAM's pseudo-labels
# from the same classifier under the same rule are scored beside them, not trained on: results.md names both.
_base_ = './gradcam_r18_deeplabv3plus_synthetic.py'
cam = dict(_delete_=True, method='racam', threshold_rule=dict(type='otsu', bg_ratio=0.5),
           compare=[dict(method='gradcam', target_layers=['backbone.layer4'])])
# both trainings in mixed precision (bf16 on a CPU, fp16 on a GPU; tools/train.py --amp), the classifier also in
# channels_last (--channels-last): train images/s on 2 threads, fp32 = 1: classifier bf16 1.8x, + channels_last
# 2.2-2.5x; segmenter bf16 1.3x, + channels_last 1.3-1.4x (mixed: not used) (tools/analysis_tools/benchmark_train.py)
classifier = dict(amp=True, channels_last=True)
segmenter = dict(config='../segmenter/deeplabv3plus_r18-w32-d16_1xb8-1400_synthetic-pseudo-balanced-128x128.py',
                 amp=True, init_from_classifier=True)
