from .base_cam import BaseCAM, minmax_scale
from .builder import build_cam
from .grad_cam import GradCAM
from .pseudo_labels import IGNORE_INDEX, cams_to_pseudo_labels

__all__ = ['BaseCAM', 'GradCAM', 'build_cam', 'minmax_scale', 'cams_to_pseudo_labels', 'IGNORE_INDEX']
