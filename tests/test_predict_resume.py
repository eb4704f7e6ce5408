"""tools/predict.py resume: a line cut short by a killed run is dropped, whole lines are kept."""
import json
import os.path as osp
import runpy


def test_cut_line_is_dropped_before_appending(repo_root, tmp_path):
    finished_lines = runpy.run_path(osp.join(repo_root, 'tools', 'predict.py'))['finished_lines']
    path = str(tmp_path / 'predictions.jsonl')
    whole = [dict(image='a.png', decision='OK'), dict(image='b.png', error='cannot decode')]
    with open(path, 'w') as f:
        f.write(''.join(json.dumps(r) + '\n' for r in whole) + '{"image": "c.png", "deci')
    assert finished_lines(path) == whole
    assert open(path).read() == ''.join(json.dumps(r) + '\n' for r in whole)  # appends start on a new line
    assert finished_lines(str(tmp_path / 'none.jsonl')) == []
