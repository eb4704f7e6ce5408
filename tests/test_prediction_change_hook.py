"""``PredictionChangeHook`` through an mmengine runner: the change of the validation predictions between rounds,
counted by hand, and mmengine's ``EarlyStoppingHook`` stopping on it."""
import torch
from mmengine.model import BaseModel
from mmengine.registry import MODELS
from mmengine.structures import PixelData
from mmengine.testing import RunnerTestCase
from mmseg.structures import SegDataSample

from mmwsss.engine import PredictionChangeHook


class ToyRoundsSegmenter(BaseModel):
    """A linear toy for training; its validation predictions are 8 x 6 maps set by the validation round ``r``:
    round 0 marks pixel (0, 0) as class 1, every later round pixels (0, 0) and (0, 2)."""

    batches_per_round = 4  # RunnerTestCase's 12 validation items in batches of 3

    def __init__(self, data_preprocessor=None):
        super().__init__(data_preprocessor=data_preprocessor)
        self.linear = torch.nn.Linear(2, 1)
        self.val_calls = 0

    def forward(self, inputs, data_samples=None, mode='tensor'):
        x = torch.stack(inputs) if isinstance(inputs, list) else inputs
        out = self.linear(x)[:, 0]
        if mode == 'loss':
            return dict(loss=out.pow(2).mean())
        return out

    def val_step(self, data):
        rnd, pos = divmod(self.val_calls, self.batches_per_round)
        self.val_calls += 1
        samples = []
        for i in range(len(data['inputs'])):
            pred = torch.zeros(1, 8, 6, dtype=torch.long)
            pred[0, 0, 0] = 1
            if rnd > 0:
                pred[0, 0, 2] = 1
            sample = SegDataSample(metainfo=dict(img_path=f'img{pos * 3 + i}.png'))
            sample.pred_sem_seg = PixelData(data=pred)
            samples.append(sample)
        return samples


class TestPredictionChangeHook(RunnerTestCase):

    def setUp(self):
        super().setUp()
        MODELS.register_module(module=ToyRoundsSegmenter, force=True)

    def tearDown(self):
        MODELS.module_dict.pop('ToyRoundsSegmenter', None)
        super().tearDown()

    def test_change_between_rounds_by_hand(self):
        cfg = self.iter_based_cfg
        cfg.model = dict(type='ToyRoundsSegmenter')
        cfg.train_cfg = dict(by_epoch=False, max_iters=6, val_interval=2)
        cfg.custom_hooks = [dict(type='PredictionChangeHook', max_side=4)]
        runner = self.build_runner(cfg)
        runner.train()
        # maps strided by 2 to 4 x 3: pixels (0, 0) and (0, 2) survive (kept at (0, 0), (0, 1)); 12 images
        # round 1 vs 0: 1 changed pixel of 12 per image, 2 in the defect union; round 2 vs 1: nothing changed
        defect = runner.message_hub.get_scalar('val/defect_change').data[0].tolist()
        pixel = runner.message_hub.get_scalar('val/pixel_change').data[0].tolist()
        assert defect == [0.5, 0.0] and pixel == [1 / 12, 0.0]

    def test_early_stopping_on_the_change(self):
        cfg = self.iter_based_cfg
        cfg.model = dict(type='ToyRoundsSegmenter')
        cfg.train_cfg = dict(by_epoch=False, max_iters=20, val_interval=2)
        cfg.custom_hooks = [
            dict(type='PredictionChangeHook'),
            dict(type='EarlyStoppingHook', monitor='defect_change', rule='less', stopping_threshold=0.01)
        ]
        runner = self.build_runner(cfg)
        runner.train()
        assert runner.iter == 6, 'round 0 has no previous maps, round 1 changed half, round 2 nothing: stop'


def test_rejects_a_bad_grid():
    import pytest
    with pytest.raises(ValueError, match='max_side'):
        PredictionChangeHook(max_side=0)
