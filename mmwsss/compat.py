"""Two small shims that let the verified stack (see ``requirements.txt``) work together.

1. ``mmcv._ext`` stand-in. mmsegmentation 1.2.2 imports :mod:`mmcv.ops` unconditionally, which loads the
   compiled extension ``mmcv._ext``. ``mmcv-lite`` has none, so ``import mmseg.models`` fails with
   ``No module named 'mmcv._ext'``. We register a stand-in module whose kernels raise a clear error *only
   when called*. It carries a real ``__spec__`` (loader ``None``) because mmengine's
   ``mmcv_full_available()`` calls ``pkgutil.find_loader('mmcv._ext')``. When a compiled mmcv is installed
   the shim does nothing.
2. ``torch.load`` defaults to ``weights_only=True`` since torch 2.6, but mmengine 0.10.7 checkpoints hold
   ``HistoryBuffer`` and numpy objects, so ``resume``/``load_from``/``init_model`` fail. We re-register
   mmengine's local-file loader with ``weights_only=False``. **Checkpoints are pickles: load only files
   you trust.**
"""
import importlib.machinery
import importlib.util
import os.path as osp
import sys
import types

import torch

MMCV_EXT = 'mmcv._ext'


class MissingCompiledOpError(RuntimeError):
    """Raised when a compiled mmcv kernel is called under mmcv-lite."""


def _real_mmcv_ext_available() -> bool:
    if MMCV_EXT in sys.modules:
        return not getattr(sys.modules[MMCV_EXT], '__mmwsss_stub__', False)
    try:
        return importlib.util.find_spec(MMCV_EXT) is not None
    except (ImportError, ValueError):
        return False


def _make_missing_kernel(name: str):

    def kernel(*args, **kwargs):
        raise MissingCompiledOpError(
            f'mmcv op "{name}" needs the compiled mmcv package, but mmcv-lite is installed. '
            'Install full mmcv (pip install "mmcv>=2.0.0rc4,<2.2.0") or choose a model '
            'without compiled ops.')

    kernel.__name__ = name
    return kernel


def install_mmcv_ext_stub() -> bool:
    """Register the ``mmcv._ext`` stand-in if no compiled extension exists.

    Returns:
        bool: True if the stand-in was installed (or already is), False if a real
        compiled mmcv is present and nothing was done.
    """
    if MMCV_EXT in sys.modules:
        return bool(getattr(sys.modules[MMCV_EXT], '__mmwsss_stub__', False))
    if _real_mmcv_ext_available():
        return False
    module = types.ModuleType(MMCV_EXT, 'mmwsss stand-in for the compiled mmcv extension')
    module.__spec__ = importlib.machinery.ModuleSpec(MMCV_EXT, loader=None)
    module.__mmwsss_stub__ = True

    def __getattr__(name: str):
        if name.startswith('__'):
            raise AttributeError(name)
        return _make_missing_kernel(name)

    module.__getattr__ = __getattr__
    sys.modules[MMCV_EXT] = module
    return True


def load_from_local_trusted(filename: str, map_location=None):
    """mmengine's local checkpoint loader with ``weights_only=False`` (trusted files only)."""
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    return torch.load(filename, map_location=map_location, weights_only=False)


def install_trusted_checkpoint_loader() -> None:
    """Make mmengine load its own (pickled) checkpoints under torch >= 2.6."""
    from mmengine.runner.checkpoint import CheckpointLoader
    CheckpointLoader.register_scheme(prefixes='', loader=load_from_local_trusted, force=True)


def apply_shims() -> None:
    """Apply both shims. Idempotent; called on ``import mmwsss``."""
    install_mmcv_ext_stub()
    install_trusted_checkpoint_loader()
