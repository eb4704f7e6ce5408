"""Guided Grad-CAM (Selvaraju et al., ICCV 2017): guided-backprop saliency times the Grad-CAM map."""
from contextlib import contextmanager

import torch
from torch import Tensor, nn

from mmwsss.registry import CAM_METHODS
from .base_cam import minmax_scale
from .grad_cam import GradCAM


class _GuidedReLUFunction(torch.autograd.Function):
    """ReLU whose backward passes only positive gradients at positive inputs (Springenberg et al. 2015)."""

    @staticmethod
    def forward(ctx, x):
        out = x.clamp(min=0)
        ctx.save_for_backward(x)
        return out

    @staticmethod
    def backward(ctx, grad):
        (x, ) = ctx.saved_tensors
        return grad * (x > 0) * (grad > 0)


class GuidedReLU(nn.Module):

    def forward(self, x: Tensor) -> Tensor:
        return _GuidedReLUFunction.apply(x)


@contextmanager
def guided_relus(model: nn.Module):
    """Temporarily replace every ``nn.ReLU`` of ``model`` by :class:`GuidedReLU` (restored on exit)."""
    swapped = []
    for parent in model.modules():
        for name, child in list(parent.named_children()):
            if isinstance(child, nn.ReLU):
                setattr(parent, name, GuidedReLU())
                swapped.append((parent, name, child))
    try:
        yield
    finally:
        for parent, name, child in swapped:
            setattr(parent, name, child)


def guided_backprop(forward_fn, model: nn.Module, inputs: Tensor, class_idx: int) -> Tensor:
    """Guided-backprop gradient of ``sum_n y[n, class_idx]`` w.r.t. the inputs: (N, 3, H, W)."""
    with torch.enable_grad(), guided_relus(model):
        x = inputs.detach().requires_grad_(True)
        (grad, ) = torch.autograd.grad(forward_fn(x)[:, class_idx].sum(), x)
    return grad


@CAM_METHODS.register_module(name=['guided_gradcam', 'GuidedGradCAM'])
class GuidedGradCAM(GradCAM):
    """``M = minmax( max_rgb |GB| * GradCAM )``: input-resolution detail gated by the Grad-CAM region."""

    def __call__(self, inputs: Tensor, class_mask: Tensor) -> Tensor:
        cams = super().__call__(inputs, class_mask)
        mask = class_mask.bool().to(inputs.device)
        for k in torch.nonzero(mask.any(0)).flatten().tolist():
            gb = guided_backprop(self.forward_fn, self.model, inputs, k).abs().amax(1)
            cams[:, k] = minmax_scale(gb * cams[:, k])
        return cams * mask[:, :, None, None]
