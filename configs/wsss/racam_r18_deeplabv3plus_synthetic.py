# The demo (`make demo`): the whole weakly supervised pipeline on the embedded synthetic set with this project's
# method. Region-Aware CAM pseudo-labels (FGBP + region-aware fusion + image-adaptive refinement; GT-free per-image
# Otsu thresholds) train the segmenter (the small-defect recipe: class-balanced sampling, CE + Dice, 1600 iterations);
# Grad-CAM's pseudo-labels from the same classifier under the same rule are
# scored beside them, not trained on: results.md names both.
_base_ = './gradcam_r18_deeplabv3plus_synthetic.py'
cam = dict(_delete_=True, method='racam', threshold_rule=dict(type='otsu', bg_ratio=0.5),
           compare=[dict(method='gradcam', target_layers=['backbone.layer4'])])
# both trainings in mixed precision (bf16 on a CPU, fp16 on a GPU; tools/train.py --amp): on 2 threads classifier 1.5x,
# segmenter 1.8x the fp32 images/s (tools/analysis_tools/benchmark_train.py; 1.4x per tools/train.py step)
classifier = dict(amp=True)
segmenter = dict(config='../segmenter/deeplabv3plus_r18-d16_1xb8-1600_synthetic-pseudo-balanced-128x128.py', amp=True)
