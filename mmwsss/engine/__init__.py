from .hooks import ChannelsLastHook, IterativeRefineHook, PredictionChangeHook, TrainProgressHook
from .label_refinement import refine_pseudo_labels
from .optimizers import CPUAmpOptimWrapper

__all__ = ['ChannelsLastHook', 'CPUAmpOptimWrapper', 'IterativeRefineHook', 'PredictionChangeHook', 'TrainProgressHook',
           'refine_pseudo_labels']
