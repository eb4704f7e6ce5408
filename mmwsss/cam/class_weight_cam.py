"""CAM (Zhou et al., CVPR 2016): the classifier's own class weights on the last feature map."""
from typing import Optional

from torch import Tensor, nn

from mmwsss.registry import CAM_METHODS
from .base_cam import BaseCAM


def find_classifier_weight(model: nn.Module) -> Tensor:
    """The (K, C) weight of the last ``nn.Linear`` under ``model.head`` (or in the model)."""
    root = getattr(model, 'head', model)
    linears = [m for m in root.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError(f'{type(model).__name__} has no nn.Linear classifier: CAM needs class weights')
    return linears[-1].weight


@CAM_METHODS.register_module(name=['cam', 'CAM'])
class ClassWeightCAM(BaseCAM):
    """``M_k = ReLU(sum_c W[k, c] A_c)`` with ``W`` the final linear layer; exact for linear heads on pooled
    features of the target layer (use the last backbone stage). Gradient-free."""
    needs_gradients = False

    def get_cam_weights(self, activations: Tensor, gradients: Optional[Tensor], class_idx: int) -> Tensor:
        weight = find_classifier_weight(self.model)
        if weight.shape[1] != activations.shape[1]:
            raise ValueError(f'class weights have {weight.shape[1]} inputs but the target layer has '
                             f'{activations.shape[1]} channels: CAM needs the last feature map')
        return weight[class_idx].detach().to(activations.dtype).view(1, -1, 1, 1).expand(
            activations.shape[0], -1, 1, 1)
