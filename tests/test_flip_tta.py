"""Flip test-time augmentation: FlipTTAModel's merge rule, the TTA pipeline, and tools/test.py --tta end to end."""
import math
import os.path as osp
import sys

import pytest
import torch

R18 = 'configs/segmenter/deeplabv3plus_r18-d16_1xb8-400_synthetic-pseudo-128x128.py'


def _tta_model(repo_root, data_root=None):
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmseg.registry import MODELS

    from mmwsss.apis import set_data_root, tta_config
    cfg = Config.fromfile(osp.join(repo_root, R18))
    if data_root:
        set_data_root(cfg._cfg_dict, data_root)
    cfg = tta_config(cfg)
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(cfg.model)
    model.module.init_weights()
    return cfg, model.eval()


def test_merge_averages_class_probabilities(repo_root):
    """Two views, two classes, two pixels: class-1 probabilities .75 / .25 and .5 / .25 average to .625 / .25."""
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    _, model = _tta_model(repo_root)
    ln3 = math.log(3)
    views = []
    for defect_logits in ([ln3, -ln3], [0.0, -ln3]):
        view = SegDataSample(metainfo=dict(img_path=f'{len(views)}.png'))
        view.seg_logits = PixelData(data=torch.tensor([[[0.0, 0.0]], [defect_logits]]))
        view.gt_sem_seg = PixelData(data=torch.tensor([[[1, 0]]]))
        views.append(view)
    merged, = model.merge_preds([views])
    torch.testing.assert_close(merged.seg_logits.data.softmax(0)[1], torch.tensor([[0.625, 0.25]]))
    assert merged.pred_sem_seg.data.tolist() == [[[1, 0]]]
    assert merged.gt_sem_seg.data.tolist() == [[[1, 0]]] and merged.img_path == '0.png'  # the first view's


def test_merge_one_channel_averages_the_sigmoid_probabilities(repo_root):
    """One output channel: mmseg hands back sigmoid probabilities; .2 and .6 average to .4 (> .3, mmseg's default
    threshold), .1 and .3 to .2 (below it); seg_logits stay probabilities, as without TTA."""
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    _, model = _tta_model(repo_root)
    model.module.decode_head.threshold = 0.3
    views = []
    for probs in ([0.2, 0.1], [0.6, 0.3]):
        view = SegDataSample()
        view.seg_logits = PixelData(data=torch.tensor([[probs]]))
        views.append(view)
    merged, = model.merge_preds([views])
    torch.testing.assert_close(merged.seg_logits.data, torch.tensor([[[0.4, 0.2]]]))
    assert merged.pred_sem_seg.data.tolist() == [[[1.0, 0.0]]]


def test_flip_tta_pipeline_puts_flips_between_sizing_and_masks():
    from mmwsss.apis import flip_tta_pipeline
    from mmwsss.apis.runner_config import TTA_FLIPS
    test = [dict(type='LoadImageFromFile'), dict(type='Resize', scale=(256, 256), keep_ratio=False),
            dict(type='LoadAnnotations'), dict(type='PackSegInputs')]
    load, tta = flip_tta_pipeline(test)
    assert load == test[0] and tta['type'] == 'TestTimeAug'
    assert tta['transforms'] == [[test[1]], list(TTA_FLIPS), [test[2]], [test[3]]]
    assert [v['prob'] for v in TTA_FLIPS] == [0.0, 1.0, 1.0]  # the image itself first
    with pytest.raises(ValueError, match='starts with LoadImageFromFile'):
        flip_tta_pipeline(test[1:])
    _, scaled = flip_tta_pipeline(test, scales=[1.0, 1.5])  # 2 scales x 3 flips, after the test size
    assert scaled['transforms'][1] == [dict(type='Resize', scale_factor=s, keep_ratio=True) for s in (1.0, 1.5)]
    assert scaled['transforms'][2] == list(TTA_FLIPS) and scaled['transforms'][0] == [test[1]]
    with pytest.raises(ValueError, match='positive'):
        flip_tta_pipeline(test, scales=[1.0, 0])
    native = [test[0], test[2], test[3]]  # no resize: the views come straight after loading
    assert flip_tta_pipeline(native)[1]['transforms'] == [list(TTA_FLIPS), [test[2]], [test[3]]]
    with pytest.raises(ValueError, match='resizes after loading the masks'):
        flip_tta_pipeline([test[0], test[2], test[1], test[3]], scales=[1.0, 1.5])


def test_tta_prediction_is_the_mean_of_the_unflipped_views(repo_root, tiny_synthetic):
    """Through the registries and the real pipeline: the views are the image and its mirrors, and the merged
    probabilities equal the mean of softmax(z(x)), flip_w(softmax(z(flip_w x))), flip_h(softmax(z(flip_h x)))."""
    from mmengine.dataset import pseudo_collate
    from mmengine.registry import DefaultScope
    from mmseg.registry import DATASETS
    from mmseg.structures import SegDataSample
    cfg, model = _tta_model(repo_root, tiny_synthetic)
    with DefaultScope.overwrite_default_scope('mmseg'):
        dataset = DATASETS.build(cfg.test_dataloader.dataset)
        batch = pseudo_collate([dataset[0]])
        with torch.no_grad():
            merged, = model.test_step(batch)
            image = batch['inputs'][0][0]
            assert torch.equal(batch['inputs'][1][0], image.flip(-1))
            assert torch.equal(batch['inputs'][2][0], image.flip(-2))
            probs = []
            gt_shape = tuple(merged.gt_sem_seg.data.shape[-2:])  # 64 px: the views (128 px) go back to it
            for dims in ((), (-1, ), (-2, )):
                plain = SegDataSample(metainfo=dict(img_shape=tuple(image.shape[-2:]), ori_shape=gt_shape))
                out, = model.module.test_step(dict(inputs=[image.flip(dims) if dims else image], data_samples=[plain]))
                probs.append(out.seg_logits.data.softmax(0).flip(dims) if dims else out.seg_logits.data.softmax(0))
    assert tuple(merged.seg_logits.data.shape[-2:]) == gt_shape != tuple(image.shape[-2:])
    torch.testing.assert_close(merged.seg_logits.data.softmax(0), torch.stack(probs).mean(0), atol=1e-5, rtol=1e-5)
    assert torch.equal(merged.pred_sem_seg.data[0], merged.seg_logits.data.argmax(0))


def test_test_tool_with_tta_writes_metrics(repo_root, tiny_synthetic, tmp_path, monkeypatch, capfd):
    """tools/test.py --tta --tta-scales 1.0 1.5: the checkpoint loads into the wrapped segmenter, every test image
    is merged from 2 scales x 3 mirrors, the metrics are written."""
    import json
    import runpy

    from mmwsss.models import FlipTTAModel
    _, model = _tta_model(repo_root)
    views_seen = []
    merge = FlipTTAModel.merge_preds
    monkeypatch.setattr(FlipTTAModel, 'merge_preds',
                        lambda self, lists: views_seen.extend(len(v) for v in lists) or merge(self, lists))
    ckpt = tmp_path / 'seg.pth'
    torch.save(dict(state_dict=model.module.state_dict(), meta=dict()), ckpt)
    monkeypatch.setattr(sys, 'argv', ['test.py', osp.join(repo_root, R18), str(ckpt), '--tta', '--tta-scales', '1.0',
                                      '1.5', '--data-root', tiny_synthetic, '--work-dir', str(tmp_path / 'work')])
    runpy.run_path(osp.join(repo_root, 'tools', 'test.py'), run_name='__main__')
    logs = list((tmp_path / 'work').rglob('*.json'))
    scores = [json.loads(line) for f in logs for line in f.read_text().splitlines() if 'mIoU' in line]
    assert scores and 0.0 <= scores[-1]['mIoU'] <= 100.0
    assert views_seen == [6] * 8  # the 8 test images of the tiny set
    log = ''.join(f.read_text() for f in (tmp_path / 'work').rglob('*.log'))
    assert 'Load checkpoint from' in log and 'do not match exactly' not in capfd.readouterr().out


def test_inferencer_tta_is_the_mean_of_the_mirrored_predictions(repo_root, tmp_path):
    """DefectInferencer(tta_scales=(1.0, )): p(image) = mean of the plain inferencer's p on the image and on its two
    mirrors, each mirrored back; an ONNX model with TTA is refused in one line."""
    import numpy as np

    from mmwsss.apis import DefectInferencer
    cfg, model = _tta_model(repo_root)
    ckpt = str(tmp_path / 'seg.pth')
    torch.save(dict(state_dict=model.module.state_dict(), meta=dict(dataset_meta=dict(classes=list('bspx')))), ckpt)
    seg_cfg = osp.join(repo_root, R18)
    plain = DefectInferencer(seg_cfg, ckpt)
    tta = DefectInferencer(seg_cfg, ckpt, tta_scales=(1.0, ))
    image = np.random.default_rng(0).integers(0, 256, (40, 56, 3), dtype=np.uint8)
    expected = (plain.probabilities([image])[0] + plain.probabilities([image[:, ::-1].copy()])[0].flip(-1)
                + plain.probabilities([image[::-1].copy()])[0].flip(-2)) / 3
    got, = tta.probabilities([image])
    assert got.shape == (4, 40, 56)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)
    assert tta.predict_arrays([image])[0]['mask'].shape == (40, 56)
    (tmp_path / 'model.onnx').write_bytes(b'')  # refused before it is read
    with pytest.raises(ValueError, match='not ONNX models'):
        DefectInferencer(seg_cfg, str(tmp_path / 'model.onnx'), tta_scales=(1.0, ))
