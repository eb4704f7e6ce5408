"""XGrad-CAM (Fu et al., BMVC 2020): activation-normalized gradient weights."""
from torch import Tensor

from mmwsss.registry import CAM_METHODS
from .base_cam import BaseCAM


@CAM_METHODS.register_module(name=['xgradcam', 'XGradCAM'])
class XGradCAM(BaseCAM):
    """``w_c = sum_ij g_c(i, j) A_c(i, j) / (sum_ij A_c + 1e-7)``."""

    def get_cam_weights(self, activations: Tensor, gradients: Tensor, class_idx: int) -> Tensor:
        sum_act = activations.sum(dim=(2, 3), keepdim=True)
        return (gradients * activations / (sum_act + 1e-7)).sum(dim=(2, 3), keepdim=True)
