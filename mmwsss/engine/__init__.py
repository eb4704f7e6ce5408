from .hooks import IterativeRefineHook
from .label_refinement import refine_pseudo_labels

__all__ = ['IterativeRefineHook', 'refine_pseudo_labels']
