"""The ``mmwsss`` console command: one entry point for the tools, from any folder (``python -m mmwsss`` too).

    mmwsss convert SRC --ok OK_FOLDER --out data/line3      # own OK / NG folders (tools/dataset_converters/folders.py)
    mmwsss convert mtd SRC OUT                              # a public data set's converter
    mmwsss pipeline CONFIG --work-dir DIR                   # tools/run_pipeline.py
    mmwsss train CONFIG | test CONFIG CKPT | predict CONFIG CKPT INPUT... | export CONFIG CKPT --out model.onnx

Each command runs the tool of the same name with the remaining arguments (``mmwsss <command> -h`` shows its
options). A config path that does not exist from the current folder is looked up in the shipped configs
(``wsss/racam_r18_deeplabv3plus_synthetic.py`` or ``configs/wsss/...``).
"""

import os
import os.path as osp
import runpy
import sys
from typing import List, Optional

from mmwsss.utils.package_paths import shipped_path

COMMANDS = {
    'convert': 'dataset_converters/folders.py',
    'pipeline': 'run_pipeline.py',
    'train': 'train.py',
    'test': 'test.py',
    'predict': 'predict.py',
    'export': 'deployment/pytorch2onnx.py',
}
TAKES_CONFIG = ('pipeline', 'train', 'test', 'predict', 'export')


def resolve_config(path: str) -> str:
    """``path`` if it exists, else the shipped config of that relative path (leading ``configs/`` optional)."""
    if osp.exists(path) or not path.endswith('.py'):
        return path
    rel = path[len('configs/'):] if path.startswith('configs/') else path
    shipped = osp.join(shipped_path('configs'), rel)
    return shipped if osp.isfile(shipped) else path


def converter_scripts() -> list:
    """Names of the shipped converters (``tools/dataset_converters/<name>.py``)."""
    folder = osp.join(shipped_path('tools'), 'dataset_converters')
    return sorted(f[:-3] for f in os.listdir(folder) if f.endswith('.py') and not f.startswith('_'))


def usage() -> str:
    return (__doc__.strip().split('\n\n')[1] + '\n\ncommands: ' + ', '.join(COMMANDS)
            + '; converters: ' + ', '.join(converter_scripts()))


def main(argv: Optional[List[str]] = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ('-h', '--help'):
        print('usage: mmwsss <command> [arguments]\n\n' + usage())
        return
    command, rest = argv[0], argv[1:]
    if command not in COMMANDS:
        sys.exit(f"error: unknown command {command!r}; choose one of {', '.join(COMMANDS)} (mmwsss -h)")
    tool = COMMANDS[command]
    if command == 'convert' and rest and rest[0] in converter_scripts():
        tool, rest = f'dataset_converters/{rest[0]}.py', rest[1:]
    if command in TAKES_CONFIG and rest and not rest[0].startswith('-'):
        rest[0] = resolve_config(rest[0])
    script = osp.join(shipped_path('tools'), tool)
    sys.argv = [script] + rest
    sys.path.insert(0, osp.dirname(script))
    runpy.run_path(script, run_name='__main__')


if __name__ == '__main__':
    main()
