"""``ChannelsLastHook``: train and evaluate in the channels_last (NHWC) memory format."""
import torch
from mmengine.hooks import Hook
from mmengine.registry import HOOKS


@HOOKS.register_module()
class ChannelsLastHook(Hook):
    """Convert the model's 4-D parameters and buffers to ``torch.channels_last`` before training, and before a
    validation or test run (a test-only runner, e.g. the pipeline's test of a trained checkpoint, never trains).

    A convolution whose weight is channels_last returns channels_last output whatever its input's layout, so
    the whole network runs NHWC from the first layer on; the parameters keep their identity (the optimizer's
    references stay valid) and checkpoints load into a contiguous model as usual. Whether it pays depends on
    the model and the hardware. On this project's 2-core AMX CPU (``tools/analysis_tools/benchmark_train.py``
    and ``tools/train.py``, docs/results.md):

    - the demo's half-width ResNet-18 classifier trains 1.17-1.34x faster in channels_last + bf16 than in bf16
      alone, its DeepLabV3+ 0.94-1.12x (so the demo enables it for the classifier only);
    - the MTD pipeline's EfficientNet-Lite0 + Semantic-FPN segmenter steps 1.15x faster and validates 1.6x faster
      than in bf16 alone (its depthwise convolutions: a 5x5 depthwise backward is about 7x faster in NHWC), so the
      Lite0 pipelines enable it for the fully supervised bound; the weak segmenter keeps NCHW (it scored lower in
      NHWC on the same labels with both seeds tried).
    """

    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        runner.model.to(memory_format=torch.channels_last)  # a wrapper's .to() reaches the wrapped model

    before_val = before_test = before_train
