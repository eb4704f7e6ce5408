from .backbones import EfficientNetLite
from .class_dice_loss import ClassDiceLoss
from .class_gate import ClassifierGate, calibrated_scores, gate_probabilities, recall_floors
from .efficientnet_lite_checkpoint import convert_efficientnet_lite
from .flip_tta_model import FlipTTAModel
from .heads import FGBPCAMHead
from .necks import RegionAwareWeightingNeck
from .segmentors import LogitAdjustedEncoderDecoder, loss_class_weights
from .weighted_cross_entropy_loss import WeightedCrossEntropyLoss

__all__ = [
    'ClassDiceLoss', 'ClassifierGate', 'EfficientNetLite', 'FGBPCAMHead', 'FlipTTAModel', 'LogitAdjustedEncoderDecoder',
    'RegionAwareWeightingNeck', 'WeightedCrossEntropyLoss', 'convert_efficientnet_lite', 'gate_probabilities',
    'recall_floors', 'calibrated_scores', 'loss_class_weights'
]
