"""LayerCAM (Jiang et al., TIP 2021): element-wise positive gradients; multi-layer by max fusion."""
from typing import List

import torch
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

    def aggregate_layers(self, layer_maps: List[Tensor], size) -> Tensor:
        return minmax_scale(torch.stack(self.scaled_layer_maps(layer_maps, size), 0).amax(0))
