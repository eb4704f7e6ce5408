# The demo pipeline plus two rounds of iterative pseudo-label refinement (IterativeRefineHook, 400
# iterations per round from the round-0 segmenter) and the fully supervised upper bound (same segmenter
# and schedule on the GT masks): results.json gains `rounds`, `fully_supervised`, `ratio_to_fully_supervised`.
_base_ = './gradcam_r18_deeplabv3plus_synthetic.py'
refinement = dict(rounds=2, iters_per_round=400, mode='average', conf_thr=0.7, label_weight=0.3)
fully_supervised = dict(config='../segmenter/deeplabv3plus_r18-d16_1xb8-400_synthetic-128x128.py')
