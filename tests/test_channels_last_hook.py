"""``ChannelsLastHook`` through an mmengine runner: NHWC weights and activations, the optimizer still updating them."""
import torch
from mmengine.model import BaseModel
from mmengine.registry import MODELS
from mmengine.testing import RunnerTestCase
from torch import nn

from mmwsss.apis import prepare_config


class ToyConvModel(BaseModel):
    """RunnerTestCase's (N, 2) inputs spread to (N, 2, 4, 4) maps, one 3x3 conv, mean -> (N, )."""

    def __init__(self, data_preprocessor=None):
        super().__init__(data_preprocessor=data_preprocessor)
        self.conv = nn.Conv2d(2, 3, 3, padding=1)
        self.seen_channels_last = []

    def forward(self, inputs, data_samples=None, mode='tensor'):
        x = torch.stack(inputs) if isinstance(inputs, list) else inputs
        out = self.conv(x[:, :, None, None].expand(-1, -1, 4, 4).contiguous())
        self.seen_channels_last.append(out.is_contiguous(memory_format=torch.channels_last))
        out = out.mean((1, 2, 3))
        if mode == 'loss':
            target = torch.stack(data_samples) if isinstance(data_samples, list) else data_samples
            return dict(loss=((out - target)**2).mean())
        return out


class TestChannelsLastHook(RunnerTestCase):

    def setUp(self):
        super().setUp()
        MODELS.register_module(module=ToyConvModel, force=True)

    def tearDown(self):
        MODELS.module_dict.pop('ToyConvModel', None)
        super().tearDown()

    def test_trains_nhwc_with_the_same_parameters(self):
        cfg = self.iter_based_cfg
        cfg.model = dict(type='ToyConvModel')
        cfg.train_cfg = dict(by_epoch=False, max_iters=3, val_interval=100)
        cfg.custom_hooks = [dict(type='ChannelsLastHook')]
        runner = self.build_runner(cfg)
        weight = runner.model.conv.weight
        before = weight.detach().clone()
        assert weight.is_contiguous() and not weight.is_contiguous(memory_format=torch.channels_last)
        runner.train()
        assert runner.model.conv.weight is weight, 'the optimizer must keep updating the same Parameter'
        assert weight.is_contiguous(memory_format=torch.channels_last) and not weight.is_contiguous()
        assert not torch.equal(weight.detach(), before), 'three SGD steps changed the weights'
        seen = runner.model.seen_channels_last  # 3 train steps, then the validation batches
        assert len(seen) >= 3 and all(seen), 'NHWC activations from a contiguous input'

    def test_a_test_only_runner_runs_nhwc(self):
        """A runner that only tests (the pipeline's test of a trained checkpoint) converts before testing; before
        the fix it ran NCHW (before_train never came)."""
        cfg = self.iter_based_cfg
        cfg.model = dict(type='ToyConvModel')
        cfg.custom_hooks = [dict(type='ChannelsLastHook')]
        runner = self.build_runner(cfg)
        runner.test()
        seen = runner.model.seen_channels_last
        assert seen and all(seen), 'every test batch NHWC'
        assert runner.model.conv.weight.is_contiguous(memory_format=torch.channels_last)


def test_prepare_config_adds_the_hook_once(tmp_path):
    path = tmp_path / 'cfg.py'
    path.write_text("custom_hooks = [dict(type='EMAHook')]\noptim_wrapper = dict(type='OptimWrapper')\n")
    cfg = prepare_config(str(path), work_dir=str(tmp_path), channels_last=True)
    assert cfg.custom_hooks == [dict(type='EMAHook'), dict(type='ChannelsLastHook')]
    assert prepare_config(str(path), work_dir=str(tmp_path)).custom_hooks == [dict(type='EMAHook')]
