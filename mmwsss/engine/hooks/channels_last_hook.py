"""``ChannelsLastHook``: train in the channels_last (NHWC) memory format."""
import torch
from mmengine.hooks import Hook
from mmengine.registry import HOOKS


@HOOKS.register_module()
class ChannelsLastHook(Hook):
    """Convert the model's 4-D parameters and buffers to ``torch.channels_last`` before training.

    A convolution whose weight is channels_last returns channels_last output whatever its input's layout, so
    the whole network runs NHWC from the first layer on; the parameters keep their identity (the optimizer's
    references stay valid) and checkpoints load into a contiguous model as usual. Whether it pays depends on
    the model and the hardware: on this project's 2-core AMX CPU the half-width ResNet-18 classifier trains
    1.17-1.34x faster in channels_last + bf16 than in bf16 alone (three runs), its DeepLabV3+ 0.94x and 1.12x
    (``tools/analysis_tools/benchmark_train.py``), so the demo enables it for the classifier only.
    """

    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        runner.model.to(memory_format=torch.channels_last)
