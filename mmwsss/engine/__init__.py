from .hooks import IterativeRefineHook
from .label_refinement import refine_pseudo_labels
from .optimizers import CPUAmpOptimWrapper

__all__ = ['CPUAmpOptimWrapper', 'IterativeRefineHook', 'refine_pseudo_labels']
