from .backbones import EfficientNetLite
from .efficientnet_lite_checkpoint import convert_efficientnet_lite
from .weighted_cross_entropy_loss import WeightedCrossEntropyLoss

__all__ = ['EfficientNetLite', 'WeightedCrossEntropyLoss', 'convert_efficientnet_lite']
