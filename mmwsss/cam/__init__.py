from .base_cam import BaseCAM, minmax_scale
from .builder import build_cam
from .class_weight_cam import ClassWeightCAM
from .eigen_cam import EigenCAM
from .fgbp_cam import RegionAwareCAM
from .grad_cam import GradCAM
from .grad_cam_plusplus import GradCAMPlusPlus
from .gradient_filter import filter_gradient
from .guided_grad_cam import GuidedGradCAM, guided_backprop, guided_relus
from .hires_cam import HiResCAM
from .layer_cam import LayerCAM
from .multi_scale_cam import MultiScaleCAM
from .pseudo_labels import IGNORE_INDEX, agreement_labels, cams_to_pseudo_labels, score_map
from .score_cam import ScoreCAM
from .threshold_rules import THRESHOLD_RULES, image_thresholds, min_error_thresholds, otsu_thresholds
from .xgrad_cam import XGradCAM

__all__ = [
    'BaseCAM', 'GradCAM', 'GradCAMPlusPlus', 'XGradCAM', 'LayerCAM', 'HiResCAM', 'ScoreCAM', 'EigenCAM',
    'ClassWeightCAM', 'GuidedGradCAM', 'RegionAwareCAM', 'MultiScaleCAM', 'build_cam', 'minmax_scale',
    'filter_gradient', 'guided_backprop', 'guided_relus', 'agreement_labels', 'cams_to_pseudo_labels', 'IGNORE_INDEX',
    'score_map', 'THRESHOLD_RULES',
    'image_thresholds', 'otsu_thresholds', 'min_error_thresholds'
]
