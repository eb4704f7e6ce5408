"""Grad-CAM++ (Chattopadhyay et al., WACV 2018, eq. 19), as in pytorch-grad-cam 1.5.7."""
from torch import Tensor

from mmwsss.registry import CAM_METHODS
from .base_cam import BaseCAM


@CAM_METHODS.register_module(name=['gradcampp', 'GradCAMPlusPlus'])
class GradCAMPlusPlus(BaseCAM):
    """``a_ij = g^2 / (2 g^2 + sum_ij(A) g^3)`` (0 where g = 0); ``w_c = sum_ij ReLU(g) a_ij``."""

    def get_cam_weights(self, activations: Tensor, gradients: Tensor, class_idx: int) -> Tensor:
        g2 = gradients.pow(2)
        g3 = g2 * gradients
        sum_act = activations.sum(dim=(2, 3), keepdim=True)
        aij = g2 / (2 * g2 + sum_act * g3 + 1e-6)
        aij = aij.masked_fill(gradients == 0, 0)
        return (gradients.clamp(min=0) * aij).sum(dim=(2, 3), keepdim=True)
