"""HiResCAM (Draelos and Carin, 2020): element-wise gradients times activations."""
from torch import Tensor

from mmwsss.registry import CAM_METHODS
from .base_cam import BaseCAM


@CAM_METHODS.register_module(name=['hirescam', 'HiResCAM'])
class HiResCAM(BaseCAM):
    """``M = ReLU(sum_c g_c(i, j) A_c(i, j))``: element-wise weights ``w = g``."""

    def get_cam_weights(self, activations: Tensor, gradients: Tensor, class_idx: int) -> Tensor:
        return gradients
