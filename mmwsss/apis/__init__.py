from .runner_config import (build_runner, configure_evaluation, enable_amp, prepare_config, set_data_root,
                            test_only_config)

__all__ = ['build_runner', 'configure_evaluation', 'enable_amp', 'prepare_config', 'set_data_root', 'test_only_config']
