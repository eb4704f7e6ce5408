from .defect_centered_crop import DefectCenteredCrop
from .random_rescale import RandomRescale
from .random_rot90 import RandomRot90

__all__ = ['DefectCenteredCrop', 'RandomRescale', 'RandomRot90']
