"""Guided Grad-CAM (Selvaraju et al., ICCV 2017): guided-backprop saliency times the Grad-CAM map."""
from contextlib import contextmanager
from typing import Union

import torch
from torch import Tensor, nn

from mmwsss.registry import CAM_METHODS
from .base_cam import class_slots, minmax_scale
from .grad_cam import GradCAM

#: rectifier modules that guided backprop and FGBP's ``filter_points='relu'`` act on (ReLU6: MobileNet,
#: EfficientNet-Lite)
RECTIFIERS = (nn.ReLU, nn.ReLU6)


class _GuidedReLUFunction(torch.autograd.Function):
    """(Clipped) ReLU whose backward passes only positive gradients where the unit is active, i.e.
    ``0 < x`` (``< upper`` for ReLU6) (Springenberg et al. 2015)."""

    @staticmethod
    def forward(ctx, x, upper):
        ctx.save_for_backward(x)
        ctx.upper = upper
        return x.clamp(min=0) if upper is None else x.clamp(0, upper)

    @staticmethod
    def backward(ctx, grad):
        (x, ) = ctx.saved_tensors
        active = (x > 0) if ctx.upper is None else (x > 0) & (x < ctx.upper)
        return grad * active * (grad > 0), None


class GuidedReLU(nn.Module):
    """Guided ReLU; ``upper=6.0`` makes it a guided ReLU6."""

    def __init__(self, upper: float = None) -> None:
        super().__init__()
        self.upper = upper

    def forward(self, x: Tensor) -> Tensor:
        return _GuidedReLUFunction.apply(x, self.upper)


@contextmanager
def guided_relus(model: nn.Module):
    """Temporarily replace every ``nn.ReLU`` / ``nn.ReLU6`` of ``model`` by :class:`GuidedReLU` (restored on
    exit)."""
    swapped = []
    for parent in model.modules():
        for name, child in list(parent.named_children()):
            if isinstance(child, RECTIFIERS):
                setattr(parent, name, GuidedReLU(6.0 if isinstance(child, nn.ReLU6) else None))
                swapped.append((parent, name, child))
    try:
        yield
    finally:
        for parent, name, child in swapped:
            setattr(parent, name, child)


def guided_backprop(forward_fn, model: nn.Module, inputs: Tensor, class_idx: Union[int, Tensor]) -> Tensor:
    """Guided-backprop gradient w.r.t. the inputs, (N, 3, H, W), of ``sum_n y[n, class_idx]`` (an int), or of
    ``sum_{n, k} select[n, k] y[n, k]`` for an (N, K) bool ``select`` (a class per image: one pass, see
    :func:`~mmwsss.cam.base_cam.class_slots`)."""
    with torch.enable_grad(), guided_relus(model):
        x = inputs.detach().requires_grad_(True)
        logits = forward_fn(x)
        score = (logits * class_idx).sum() if isinstance(class_idx, Tensor) else logits[:, class_idx].sum()
        (grad, ) = torch.autograd.grad(score, x)
    return grad


@CAM_METHODS.register_module(name=['guided_gradcam', 'GuidedGradCAM'])
class GuidedGradCAM(GradCAM):
    """``M = minmax( max_rgb |GB| * GradCAM )``: input-resolution detail gated by the Grad-CAM region."""

    def __call__(self, inputs: Tensor, class_mask: Tensor) -> Tensor:
        cams = super().__call__(inputs, class_mask)
        mask = class_mask.bool().to(inputs.device)
        for select in class_slots(mask):
            gb = guided_backprop(self.forward_fn, self.model, inputs, select).abs().amax(1)  # (N, H, W)
            n, k = select.nonzero(as_tuple=True)
            cams[n, k] = minmax_scale(gb[n] * cams[n, k])
        return cams * mask[:, :, None, None]
