"""LayerCAM (Jiang et al., TIP 2021): element-wise positive gradients; multi-layer by max fusion."""
from typing import List

import torch
import torch.nn.functional as F
from torch import Tensor

from mmwsss.registry import CAM_METHODS
from .base_cam import BaseCAM, minmax_scale


@CAM_METHODS.register_module(name=['layercam', 'LayerCAM'])
class LayerCAM(BaseCAM):
    """``M = ReLU(sum_c ReLU(g_c(i, j)) A_c(i, j))`` per layer. With several target layers the normalized
    per-layer maps are fused by element-wise **max** (the LayerCAM paper's fusion); with one layer the
    result equals pytorch-grad-cam's LayerCAM."""

    def get_cam_weights(self, activations: Tensor, gradients: Tensor, class_idx: int) -> Tensor:
        return gradients.clamp(min=0)

    @staticmethod
    def aggregate_layers(layer_maps: List[Tensor], size) -> Tensor:
        scaled = [
            F.interpolate(minmax_scale(F.relu(m)).unsqueeze(1), size=size, mode='bilinear',
                          align_corners=False)[:, 0] for m in layer_maps
        ]
        return minmax_scale(torch.stack(scaled, 0).amax(0))
