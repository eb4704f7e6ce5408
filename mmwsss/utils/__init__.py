from .atomic_io import atomic_write_bytes, atomic_write_png, atomic_write_text
from .cli import (add_class_gate_flags, add_debug_flag, add_tta_flags, cfg_options_action, class_gate, cli_main,
                  tta_scales)
from .config_keys import ConfigKeyError, check_cfg_options
from .file_hash import file_sha256
from .package_paths import shipped_path

__all__ = [
    'ConfigKeyError', 'add_class_gate_flags', 'add_debug_flag', 'add_tta_flags', 'atomic_write_bytes',
    'atomic_write_png', 'atomic_write_text', 'cfg_options_action', 'check_cfg_options', 'class_gate', 'cli_main',
    'file_sha256', 'shipped_path', 'tta_scales'
]
