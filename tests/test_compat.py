import subprocess
import sys

import pytest
import torch

from mmwsss import compat


def test_mmcv_ext_stub_imports_mmseg_and_fails_only_when_called():
    import mmcv.ops  # noqa: F401  (would raise "No module named 'mmcv._ext'" without the shim)
    import mmseg.models  # noqa: F401
    ext = sys.modules[compat.MMCV_EXT]
    assert getattr(ext, '__mmwsss_stub__', False) is True
    assert ext.__spec__ is not None and ext.__spec__.loader is None
    from mmengine.utils.dl_utils import mmcv_full_available
    assert mmcv_full_available() is False  # mmcv-lite + stub: no compiled ops, and no crash on __spec__
    with pytest.raises(compat.MissingCompiledOpError, match='needs the compiled mmcv'):
        ext.nms_forward(torch.zeros(1))


def test_stub_is_noop_when_compiled_mmcv_exists():
    code = (
        'import sys, types, importlib.machinery\n'
        'real = types.ModuleType("mmcv._ext"); real.__spec__ = importlib.machinery.ModuleSpec("mmcv._ext", None)\n'
        'sys.modules["mmcv._ext"] = real\n'
        'import importlib.util\n'
        f'spec = importlib.util.spec_from_file_location("compat_only", {compat.__file__!r})\n'
        'compat = importlib.util.module_from_spec(spec); spec.loader.exec_module(compat)\n'
        'assert compat.install_mmcv_ext_stub() is False\n'
        'assert sys.modules["mmcv._ext"] is real\n'
        'assert not hasattr(real, "__mmwsss_stub__")\n'
        'print("ok")\n')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith('ok')


def test_trusted_loader_reads_mmengine_checkpoint_with_history_buffer(tmp_path):
    import numpy as np
    from mmengine.logging import HistoryBuffer
    from mmengine.runner.checkpoint import _load_checkpoint
    path = tmp_path / 'ckpt.pth'
    torch.save({'state_dict': {'w': torch.ones(2)}, 'message_hub': {'h': HistoryBuffer()},
                'meta': {'np': np.arange(3)}}, path)
    import pickle
    with pytest.raises(pickle.UnpicklingError, match='Weights only load failed'):
        torch.load(path)  # torch >= 2.6 default weights_only=True refuses it
    ckpt = _load_checkpoint(str(path), map_location='cpu')
    assert torch.equal(ckpt['state_dict']['w'], torch.ones(2))
    assert isinstance(ckpt['message_hub']['h'], HistoryBuffer)


def test_missing_checkpoint_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        compat.load_from_local_trusted(str(tmp_path / 'nope.pth'))


def test_apply_shims_is_idempotent():
    from mmengine.runner.checkpoint import CheckpointLoader
    compat.apply_shims()
    stub, loader = sys.modules[compat.MMCV_EXT], CheckpointLoader._schemes['']
    compat.apply_shims()
    assert sys.modules[compat.MMCV_EXT] is stub, 'a second call must not replace the stub module'
    assert CheckpointLoader._schemes[''] is loader is compat.load_from_local_trusted
    assert list(CheckpointLoader._schemes).count('') == 1
