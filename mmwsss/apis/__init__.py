from .cam_inferencer import CAMInferencer, cam_settings
from .defect_inferencer import DefectInferencer, describe_prediction, list_inputs, load_decision
from .runner_config import (build_runner, configure_evaluation, enable_amp, flip_tta_pipeline, prepare_config,
                            set_data_root, test_only_config, tta_config)

__all__ = [
    'CAMInferencer', 'DefectInferencer', 'build_runner', 'cam_settings', 'configure_evaluation', 'describe_prediction',
    'enable_amp', 'flip_tta_pipeline', 'list_inputs', 'load_decision', 'prepare_config', 'set_data_root',
    'test_only_config', 'tta_config'
]
