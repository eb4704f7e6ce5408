"""The wheel: built from the repo, installed into a fresh venv, ``mmwsss`` works from a folder outside the repo."""
import os
import os.path as osp
import shutil
import subprocess
import sys
import sysconfig

import cv2
import numpy as np
import pytest

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def run(cmd, cwd, timeout=300):
    out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, f'{cmd} failed:\n{out.stdout[-2000:]}\n{out.stderr[-3000:]}'
    return out.stdout


@pytest.fixture(scope='module')
def installed(tmp_path_factory):
    """(venv python, venv mmwsss): the wheel installed without dependencies into a new venv that sees this
    interpreter's packages (the pinned stack) through a .pth file: no network."""
    tmp = tmp_path_factory.mktemp('wheel')
    src = str(tmp / 'src')  # build from a copy: the build writes build/ and mmwsss/.mim/ into its source tree
    shutil.copytree(REPO, src, ignore=shutil.ignore_patterns('.venv', '.git', 'data', 'work_dirs', '__pycache__',
                                                             '*.egg-info', 'build', 'dist', '.mim', '.*_cache'))
    # sdist first, then the wheel from the unpacked sdist (the `python -m build` route): .mim travels in the sdist
    run([sys.executable, 'setup.py', '-q', 'sdist', '-d', str(tmp / 'sdist')], cwd=src)
    import tarfile
    with tarfile.open(str(next((tmp / 'sdist').iterdir()))) as tar:
        tar.extractall(str(tmp / 'unpacked'), filter='data')
    unpacked = str(next((tmp / 'unpacked').iterdir()))
    run([sys.executable, '-m', 'pip', 'wheel', '-q', '--no-deps', '--no-build-isolation', '-w', str(tmp / 'dist'),
         unpacked], cwd=str(tmp))
    wheels = os.listdir(tmp / 'dist')
    assert len(wheels) == 1 and wheels[0].endswith('-py3-none-any.whl'), wheels
    venv = str(tmp / 'venv')
    run([sys.executable, '-m', 'venv', '--without-pip', venv], cwd=str(tmp))
    python = osp.join(venv, 'bin', 'python')
    purelib = run([python, '-c', "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=str(tmp)).strip()
    with open(osp.join(purelib, '_pinned_stack.pth'), 'w') as f:
        f.write(sysconfig.get_paths()['purelib'] + '\n')
    run([sys.executable, '-m', 'pip', '--python', python, 'install', '-q', '--no-deps', '--no-index',
         str(tmp / 'dist' / wheels[0])], cwd=str(tmp))
    return python, osp.join(venv, 'bin', 'mmwsss'), purelib


def test_configs_and_tools_ship_inside_the_package(installed, tmp_path):
    python, _, purelib = installed
    where = run([python, '-c', 'import mmwsss, mmwsss.utils as u; print(mmwsss.__file__); '
                 "print(u.shipped_path('configs')); print(u.shipped_path('tools'))"], cwd=str(tmp_path)).split()
    assert where == [osp.join(purelib, 'mmwsss', '__init__.py'), osp.join(purelib, 'mmwsss', '.mim', 'configs'),
                     osp.join(purelib, 'mmwsss', '.mim', 'tools')]


def test_mmwsss_command_converts_folders_outside_the_repo(installed, tmp_path):
    python, mmwsss, purelib = installed
    rng = np.random.default_rng(0)
    for cls in ('OK', 'scratch'):
        os.makedirs(tmp_path / 'tree' / cls)
        for i in range(10):
            img = (rng.random((40, 48)) * 60 + 100).astype(np.uint8)
            if cls == 'scratch':
                img[10:12, 5:40] = 20
            cv2.imwrite(str(tmp_path / 'tree' / cls / f'{i:03d}.png'), img)
    assert 'commands: convert, pipeline, train, test, predict, export' in run([mmwsss, '-h'], cwd=str(tmp_path))
    out = run([mmwsss, 'convert', 'tree', '--ok', 'OK', '--out', 'data/line'], cwd=str(tmp_path))
    assert 'written 20' in out
    # the generated configs inherit the packaged ones and resolve in the new venv
    check = ("from mmengine.config import Config; c = Config.fromfile('data/line/configs/wsss_line.py'); "
             "print(c.segmenter['config']); print(c.data_root)")
    seg_config, data_root = run([python, '-c', check], cwd=str(tmp_path)).split()
    assert data_root == str(tmp_path / 'data' / 'line') and seg_config.endswith('line_segmenter.py')
    base = open(osp.join(tmp_path, 'data', 'line', 'configs', seg_config)).read()  # relative to the config
    assert osp.join(purelib, 'mmwsss', '.mim', 'configs', 'segmenter') in base
    # a shipped config is found by its relative path from any folder (with or without configs/)
    for rel in ('wsss/racam_r18_deeplabv3plus_synthetic.py', 'configs/wsss/racam_r18_deeplabv3plus_synthetic.py'):
        found = run([python, '-c', f'from mmwsss.commands import resolve_config; print(resolve_config({rel!r}))'],
                    cwd=str(tmp_path)).strip()
        assert found == osp.join(purelib, 'mmwsss', '.mim', 'configs', 'wsss', 'racam_r18_deeplabv3plus_synthetic.py')
    assert '--cfg-options' in run([mmwsss, 'train', '-h'], cwd=str(tmp_path))
    assert '--onnx' in run([python, '-m', 'mmwsss', 'predict', '-h'], cwd=str(tmp_path))
    assert 'mtd' in run([mmwsss, '-h'], cwd=str(tmp_path)).split('converters: ')[1]
