from .defect_iou_metric import DefectIoUMetric
from .exact_match_accuracy import ExactMatchAccuracy
from .cam_evaluation import ThresholdSweep
from .segmentation_scores import confusion_matrix, iou_from_confusion, score_label_folder

__all__ = ["ThresholdSweep", "DefectIoUMetric", "ExactMatchAccuracy", 'confusion_matrix', 'iou_from_confusion', 'score_label_folder']
