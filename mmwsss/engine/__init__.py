from .hooks import ChannelsLastHook, IterativeRefineHook, TrainProgressHook
from .label_refinement import refine_pseudo_labels
from .optimizers import CPUAmpOptimWrapper

__all__ = ['ChannelsLastHook', 'CPUAmpOptimWrapper', 'IterativeRefineHook', 'TrainProgressHook', 'refine_pseudo_labels']
