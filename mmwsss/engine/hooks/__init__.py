from .iterative_refine_hook import IterativeRefineHook

__all__ = ['IterativeRefineHook']
