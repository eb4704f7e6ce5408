"""Grad-CAM (Selvaraju et al., ICCV 2017): channel weights are spatially averaged gradients."""
from torch import Tensor

from mmwsss.registry import CAM_METHODS
from .base_cam import BaseCAM


@CAM_METHODS.register_module(name=['gradcam', 'GradCAM'])
class GradCAM(BaseCAM):
    """``w_c = mean_{i,j} dy_k / dA_c(i, j)``  -> (N, C, 1, 1)."""

    def get_cam_weights(self, activations: Tensor, gradients: Tensor, class_idx: int) -> Tensor:
        return gradients.mean(dim=(2, 3), keepdim=True)
