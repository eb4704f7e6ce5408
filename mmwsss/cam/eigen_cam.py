"""EigenCAM (Muhammad and Yeasin, IJCNN 2020): first principal component of the activations."""
from typing import Optional

import torch
from torch import Tensor

from mmwsss.registry import CAM_METHODS
from .base_cam import BaseCAM


@CAM_METHODS.register_module(name=['eigencam', 'EigenCAM'])
class EigenCAM(BaseCAM):
    """Project the centred (h*w, C) activations on their first right singular vector (batched SVD).

    Class-agnostic and gradient-free. The SVD sign is arbitrary; like pytorch-grad-cam 1.5.7 we do not
    correct it, so compare maps up to sign (the ReLU afterwards keeps the positive side).
    """
    needs_gradients = False

    def get_cam_weights(self, activations: Tensor, gradients: Optional[Tensor], class_idx: int) -> Tensor:
        return torch.ones_like(activations[:, :, :1, :1])

    def layer_cam(self, activations: Tensor, gradients: Optional[Tensor], class_idx: int) -> Tensor:
        n, c, h, w = activations.shape
        x = activations.nan_to_num(0).flatten(2).transpose(1, 2)  # (N, hw, C)
        x = x - x.mean(dim=1, keepdim=True)
        vt = torch.linalg.svd(x, full_matrices=False).Vh  # (N, min, C)
        return (x @ vt[:, 0, :, None]).view(n, h, w)
