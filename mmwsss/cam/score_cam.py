"""Score-CAM (Wang et al., CVPRW 2020): channel weights from the class score of activation-masked inputs."""
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmwsss.registry import CAM_METHODS
from .base_cam import BaseCAM


@CAM_METHODS.register_module(name=['scorecam', 'ScoreCAM'])
class ScoreCAM(BaseCAM):
    """``w = softmax_c( y_k(x * norm(up(A_c))) )``. Needs one forward per channel: cost grows with C.

    Args:
        mask_batch_size: masked inputs per forward pass.
        max_channels: if set, only the ``max_channels`` channels with the highest mean activation are
            scored (the others get weight 0); ``None`` scores every channel like pytorch-grad-cam.
    """
    needs_gradients = False

    def __init__(self, model: nn.Module, target_layers, forward_fn=None, mask_batch_size: int = 64,
                 max_channels: Optional[int] = None, upsample: str = 'bilinear') -> None:
        super().__init__(model, target_layers, forward_fn, upsample)
        if mask_batch_size < 1:
            raise ValueError(f'mask_batch_size must be >= 1, got {mask_batch_size}')
        if max_channels is not None and max_channels < 1:
            raise ValueError(f'max_channels must be >= 1 or None, got {max_channels}')
        self.mask_batch_size = mask_batch_size
        self.max_channels = max_channels

    @torch.no_grad()
    def get_cam_weights(self, activations: Tensor, gradients: Optional[Tensor], class_idx: int) -> Tensor:
        inputs = self.current_inputs
        n, c = activations.shape[:2]
        channels = torch.arange(c, device=activations.device).expand(n, c)
        if self.max_channels is not None and self.max_channels < c:
            channels = activations.mean(dim=(2, 3)).topk(self.max_channels, dim=1).indices
        picked = torch.gather(activations, 1, channels[:, :, None, None].expand(-1, -1, *activations.shape[2:]))
        up = F.interpolate(picked, size=inputs.shape[-2:], mode='bilinear', align_corners=True)
        flat = up.flatten(2)
        lo = flat.min(-1).values[:, :, None, None]
        hi = flat.max(-1).values[:, :, None, None]
        up = (up - lo) / (hi - lo + 1e-8)
        masked = (inputs[:, None] * up[:, :, None]).flatten(0, 1)  # (N * C', 3, H, W)
        scores = torch.cat([
            self.forward_fn(masked[i:i + self.mask_batch_size])[:, class_idx]
            for i in range(0, masked.shape[0], self.mask_batch_size)
        ]).view(n, -1)
        weights = torch.zeros(n, c, device=activations.device, dtype=activations.dtype)
        weights.scatter_(1, channels, scores.softmax(dim=-1))
        return weights[:, :, None, None]
