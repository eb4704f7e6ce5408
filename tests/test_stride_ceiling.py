"""stride_oracle / stride_ceiling: what a decoder at output stride s can keep of a mask, worked out by hand."""
import pytest
import torch


def test_aligned_block_survives_and_a_one_pixel_line_does_not():
    from mmwsss.evaluation import stride_ceiling, stride_oracle
    block = torch.zeros(4, 4, dtype=torch.long)
    block[:2, :2] = 1
    # cell fractions (1, 0 / 0, 0) upsampled x2: per axis (1, .75, .25, 0), product > 0.5 exactly on the block
    assert torch.equal(stride_oracle(block, 2, 2), block)
    line = torch.zeros(4, 4, dtype=torch.long)
    line[:, 1] = 1
    # each left cell is half line: upsampled per column (.5, .375, .125, 0), never above background
    assert int(stride_oracle(line, 2, 2).sum()) == 0
    assert torch.equal(stride_oracle(line, 1, 2), line)
    cm = stride_ceiling([block, line], [1, 2], 2)
    assert cm[1].tolist() == [[12 + 12, 0], [4, 4]]  # stride 2: the block kept, the line's 4 pixels lost
    assert cm[0].tolist() == [[24, 0], [0, 8]]


def test_odd_sizes_keep_their_shape_and_ignore_is_not_scored():
    from mmwsss.evaluation import stride_ceiling, stride_oracle
    mask = torch.tensor([[1, 1, 0], [1, 1, 0], [255, 0, 0]])
    assert stride_oracle(mask, 2, 2).shape == (3, 3)
    assert int(stride_ceiling([mask], [2], 2).sum()) == 8  # 9 pixels, one ignored
    with pytest.raises(ValueError, match='stride must be >= 1'):
        stride_oracle(mask, 0, 2)


def test_tool_on_a_config_split(repo_root, tiny_synthetic, tmp_path, monkeypatch):
    """The tool reads the config's test split: stride 1 is the masks themselves, larger strides lose IoU."""
    import json
    import os.path as osp
    import runpy
    import sys
    out = str(tmp_path / 'ceiling.json')
    config = osp.join(repo_root, 'configs/segmenter/deeplabv3plus_r18-w32-d16_1xb8-1400_synthetic-balanced-128x128.py')
    monkeypatch.setattr(sys, 'argv', ['stride_ceiling.py', config, '--data-root', tiny_synthetic, '--strides', '1', '8',
                                      '--out', out])
    runpy.run_path(osp.join(repo_root, 'tools', 'analysis_tools', 'stride_ceiling.py'), run_name='__main__')
    table = json.load(open(out))
    assert table['images'] == 8 and table['split'] == 'test'
    assert table['strides']['1']['miou'] == 1.0
    assert table['strides']['8']['miou'] < 1.0
