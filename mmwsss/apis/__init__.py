from .defect_inferencer import DefectInferencer, describe_prediction, list_inputs, load_decision
from .runner_config import (build_runner, configure_evaluation, enable_amp, prepare_config, set_data_root,
                            test_only_config)

__all__ = [
    'DefectInferencer', 'build_runner', 'configure_evaluation', 'describe_prediction', 'enable_amp', 'list_inputs',
    'load_decision', 'prepare_config', 'set_data_root', 'test_only_config'
]
