from .hooks import IterativeRefineHook, TrainProgressHook
from .label_refinement import refine_pseudo_labels
from .optimizers import CPUAmpOptimWrapper

__all__ = ['CPUAmpOptimWrapper', 'IterativeRefineHook', 'TrainProgressHook', 'refine_pseudo_labels']
