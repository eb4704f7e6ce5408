from .random_rescale import RandomRescale
from .random_rot90 import RandomRot90

__all__ = ['RandomRescale', 'RandomRot90']
