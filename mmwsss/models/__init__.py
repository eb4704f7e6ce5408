from .backbones import EfficientNetLite
from .class_dice_loss import ClassDiceLoss
from .efficientnet_lite_checkpoint import convert_efficientnet_lite
from .flip_tta_model import FlipTTAModel
from .heads import FGBPCAMHead
from .necks import RegionAwareWeightingNeck
from .weighted_cross_entropy_loss import WeightedCrossEntropyLoss

__all__ = [
    'ClassDiceLoss', 'EfficientNetLite', 'FGBPCAMHead', 'FlipTTAModel', 'RegionAwareWeightingNeck',
    'WeightedCrossEntropyLoss', 'convert_efficientnet_lite'
]
