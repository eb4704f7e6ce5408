"""User mistakes on the command line end in one line naming what, where and the fix; --debug shows the traceback."""
import os
import os.path as osp
import runpy
import sys

import pytest


def run_tool(repo_root, monkeypatch, capsys, tool, *argv):
    """Run ``tools/<tool>`` in-process as ``__main__``; returns (exit code, stderr)."""
    monkeypatch.setattr(sys, 'argv', [tool, *argv])
    code = 0
    try:
        runpy.run_path(osp.join(repo_root, 'tools', tool), run_name='__main__')
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
        if not isinstance(exc.code, int):
            print(exc.code, file=sys.stderr)
    return code, capsys.readouterr().err


@pytest.mark.parametrize('tool, argv, message', [
    ('run_pipeline.py', ['configs/wsss/nope.py'], r'^error: pipeline config not found: configs/wsss/nope.py'),
    ('run_pipeline.py', ['configs/wsss/gradcam_r18_deeplabv3plus_synthetic.py', '--cfg-options',
                         'clasifier.checkpoint=x.pth'], r'clasifier is not a key .*did you mean classifier\?'),
    ('run_pipeline.py', ['configs/wsss/gradcam_r18_deeplabv3plus_synthetic.py', '--cfg-options',
                         'refinement.round=2'], r'did you mean refinement.rounds\?'),
    ('run_pipeline.py', ['configs/wsss/gradcam_r18_deeplabv3plus_synthetic.py', '--cfg-options',
                         'cam.bg_thresh=0.9'], r'did you mean cam.bg_thr\?'),
    ('run_pipeline.py', ['configs/wsss/gradcam_r18_deeplabv3plus_synthetic.py', '--stages', 'segmenter'],
     r"stage segmenter needs the finished stage\(s\) \['pseudo_labels'\] .*run them first"),
    ('train.py', ['configs/segmenter/deeplabv3plus_r18-d16_1xb8-400_synthetic-128x128.py', '--cfg-options',
                  'train_cfg.max_iter=5'], r'did you mean train_cfg.max_iters\?'),
    ('train.py', ['configs/segmenter/none.py'], r'^error: config file not found: configs/segmenter/none.py'),
])
def test_one_line_errors(repo_root, monkeypatch, capsys, tmp_path, tool, argv, message):
    import re
    monkeypatch.chdir(repo_root)
    code, err = run_tool(repo_root, monkeypatch, capsys, tool, *argv, '--work-dir', str(tmp_path / 'w'))
    assert code == 1 and re.search(message, err), err
    assert 'Traceback' not in err and len(err.strip().splitlines()) == 1, err


def test_malformed_cfg_options_and_debug(repo_root, monkeypatch, capsys, tmp_path):
    monkeypatch.chdir(repo_root)
    cfg = 'configs/wsss/gradcam_r18_deeplabv3plus_synthetic.py'
    code, err = run_tool(repo_root, monkeypatch, capsys, 'run_pipeline.py', cfg, '--cfg-options', 'rounds')
    assert code == 2 and "'rounds' is not key=value" in err
    with pytest.raises(KeyError, match='did you mean classifier'):  # --debug: the exception itself
        run_tool(repo_root, monkeypatch, capsys, 'run_pipeline.py', cfg, '--debug', '--cfg-options', 'clasifier.x=1')


def test_restart_refuses_a_folder_that_is_no_pipeline_run(repo_root, monkeypatch, capsys, tmp_path):
    data = tmp_path / 'my_dataset'
    (data / 'img_dir').mkdir(parents=True)
    (data / 'img_dir' / 'a.png').write_bytes(b'x')
    code, err = run_tool(repo_root, monkeypatch, capsys, 'run_pipeline.py',
                         osp.join(repo_root, 'configs/wsss/gradcam_r18_deeplabv3plus_synthetic.py'),
                         '--work-dir', str(data), '--restart')
    assert code == 1 and 'holds no pipeline run (no state.json), nothing of it is removed' in err
    assert (data / 'img_dir' / 'a.png').exists()


def test_restart_removes_only_pipeline_outputs(repo_root, capsys, tmp_path):
    restart = runpy.run_path(osp.join(repo_root, 'tools', 'run_pipeline.py'))['restart']
    work = tmp_path / 'work'
    for name in ('classifier', 'pseudo_labels', 'notes'):
        (work / name).mkdir(parents=True)
    for name in ('state.json', 'results.json', 'my_notes.txt'):
        (work / name).write_text('{}')
    restart(str(work))
    assert sorted(os.listdir(work)) == ['my_notes.txt', 'notes']
    assert 'removed state.json, results.json, classifier, pseudo_labels from' in capsys.readouterr().out


def test_folder_converter_cli_ratios(repo_root, monkeypatch, capsys, tmp_path):
    from .test_folder_converter import make_tree
    images, _ = make_tree(str(tmp_path / 'src'), masks=False)
    code, err = run_tool(repo_root, monkeypatch, capsys, 'dataset_converters/folders.py', images, '--ok', 'good',
                         '--out', str(tmp_path / 'out'), '--ratios', '0.7', '0.2', '0.2')
    assert code == 1 and err.startswith('error: --ratios must be three non-negative numbers') and 'Traceback' not in err


def test_predict_with_onnx_takes_no_checkpoint(repo_root, monkeypatch, capsys, tmp_path):
    cfg = osp.join(repo_root, 'configs/segmenter/deeplabv3plus_r18-d16_1xb8-400_synthetic-pseudo-128x128.py')
    out = ['--out-dir', str(tmp_path / 'p')]
    code, err = run_tool(repo_root, monkeypatch, capsys, 'predict.py', cfg, 'model.pth', 'images', '--onnx',
                         'm.onnx', *out)
    assert code == 2 and '--onnx runs m.onnx: give no checkpoint (model.pth), only CONFIG and INPUTs' in err
    code, err = run_tool(repo_root, monkeypatch, capsys, 'predict.py', cfg, '--onnx', 'm.onnx', *out)
    assert code == 2 and 'no INPUT given' in err
    code, err = run_tool(repo_root, monkeypatch, capsys, 'predict.py', cfg, *out)
    assert code == 2 and 'no CHECKPOINT given' in err
