from .cam_evaluation import BinnedConfusion, FloorSweep, ThresholdSweep
from .defect_iou_metric import DefectIoUMetric
from .exact_match_accuracy import ExactMatchAccuracy
from .image_level_metric import ImageLevelMetric
from .image_level_scores import image_level_scores
from .pixel_level_metric import PixelLevelMetric
from .pixel_level_scores import pixel_histograms, pixel_level_scores
from .segmentation_scores import confusion_matrix, iou_from_confusion, score_label_folder
from .stride_ceiling import stride_ceiling, stride_oracle

__all__ = [
    'BinnedConfusion', 'FloorSweep', 'ThresholdSweep', 'DefectIoUMetric', 'ExactMatchAccuracy', 'ImageLevelMetric',
    'PixelLevelMetric', 'confusion_matrix', 'image_level_scores', 'iou_from_confusion', 'pixel_histograms',
    'pixel_level_scores', 'score_label_folder', 'stride_ceiling', 'stride_oracle'
]
