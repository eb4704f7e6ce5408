# gradcam_lite0_deeplabv3plus_mtd.py plus two rounds of iterative pseudo-label refinement (IterativeRefineHook,
# 1000 iterations per round continuing from the round-0 segmenter: the PolyLR schedule of 2000 iterations runs once
# more over the two rounds) and the fully supervised reference; same keys as the base for the finished stages,
# so a work dir of the base pipeline continues with --stages refinement report.
_base_ = './gradcam_lite0_deeplabv3plus_mtd.py'
refinement = dict(rounds=2, iters_per_round=1000, mode='average', conf_thr=0.7, label_weight=0.3)
