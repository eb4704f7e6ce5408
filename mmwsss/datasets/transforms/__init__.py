from .defect_centered_crop import DefectCenteredCrop
from .limit_longest_side import LimitLongestSide
from .random_rescale import RandomRescale
from .random_rot90 import RandomRot90

__all__ = ['DefectCenteredCrop', 'LimitLongestSide', 'RandomRescale', 'RandomRot90']
