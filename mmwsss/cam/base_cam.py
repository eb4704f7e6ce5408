"""Batched, pure-torch class activation maps (template method).

One forward pass per batch captures the activations ``A_l`` (N, C, h, w) of every target layer ``l``.
Gradients come in *class slots*: slot ``j`` holds each image's ``j``-th requested class ``k_j(n)``, and one
``torch.autograd.grad`` of ``sum_n y[n, k_j(n)]`` gives every image its own ``G_l = dy_k / dA_l`` at once (the
images of an eval-mode batch do not interact), so a batch costs ``max_n |classes of n|`` backward passes (one
for single-label data), not one per class present in the batch. No parameter gradients are accumulated, no
backward hooks are left behind. A variant overrides only :meth:`get_cam_weights`:

    M_l[n, k] = ReLU( sum_c  w_c(A_l, G_l) * A_l,c )

Post-processing follows pytorch-grad-cam 1.5.7 so results are comparable: per layer ReLU, per-image
min-max scaling, bilinear resize to the input size; then ReLU, mean over layers, min-max scaling again.
"""
from abc import ABCMeta, abstractmethod
from typing import Callable, List, Optional, Sequence

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel, is_model_wrapper
from torch import Tensor, nn

EPS = 1e-7


def minmax_scale(maps: Tensor) -> Tensor:
    """Per-map min-max scaling, pytorch-grad-cam's ``scale_cam_image`` without the resize.

    Args:
        maps: (..., H, W). Returns the same shape; ``(x - min) / (max' + 1e-7)`` with ``max'`` the max
        after subtracting the min. An all-constant map becomes all zeros (no NaN).
    """
    flat = maps.flatten(-2)
    flat = flat - flat.min(-1, keepdim=True).values
    flat = flat / (flat.max(-1, keepdim=True).values + EPS)
    return flat.view_as(maps)


UPSAMPLE_MODES = ('bilinear', 'aligned')


def upsample_maps(maps: Tensor, size, mode: str = 'bilinear') -> Tensor:
    """(N, h, w) -> (N, H, W).

    ``'bilinear'``: ``F.interpolate(align_corners=False)`` (pytorch-grad-cam / cv2.resize convention: cell
    ``i`` centred on input pixel ``(i + 0.5) * s - 0.5`` with stride ``s = H / h``).
    ``'aligned'``: cell ``i`` centred on input pixel ``i * s``, the receptive-field centre of CNNs whose
    strided convs / pools use "same" padding (ResNet: 3x3 s2 p1, 7x7 s2 p3, maxpool 3x3 s2 p1). At stride 16
    the two differ by 7.5 px, more than a small defect is wide.
    """
    if mode == 'bilinear':
        return F.interpolate(maps.unsqueeze(1), size=size, mode='bilinear', align_corners=False)[:, 0]
    if mode != 'aligned':
        raise ValueError(f'upsample mode must be one of {UPSAMPLE_MODES}, got {mode!r}')
    (H, W), (h, w) = size, maps.shape[-2:]

    def axis(out: int, src: int) -> Tensor:
        coord = torch.arange(out, device=maps.device, dtype=maps.dtype) * (src / out)
        return 2 * coord / (src - 1) - 1 if src > 1 else torch.zeros_like(coord)

    gy, gx = torch.meshgrid(axis(H, h), axis(W, w), indexing='ij')
    grid = torch.stack([gx, gy], -1).expand(maps.shape[0], H, W, 2)
    return F.grid_sample(maps.unsqueeze(1), grid, mode='bilinear', padding_mode='border', align_corners=True)[:, 0]


def class_slots(class_mask: Tensor) -> List[Tensor]:
    """(N, K) bool -> one (N, K) bool per slot ``j``: True at ``(n, k)`` where ``k`` is image ``n``'s ``j``-th
    requested class (at most one True per row); ``max_n sum_k class_mask[n, k]`` slots, none for an empty mask."""
    rank = class_mask.long().cumsum(1) - 1
    num_slots = int(class_mask.sum(1).max()) if class_mask.numel() else 0
    return [class_mask & (rank == j) for j in range(num_slots)]


class BaseCAM(metaclass=ABCMeta):
    """Class activation maps for a classifier that returns logits (N, K).

    Args:
        model: the classifier. An mmengine ``BaseModel`` (e.g. mmpretrain ``ImageClassifier``) is called
            with ``mode='tensor'``; model wrappers (DDP) are unwrapped.
        target_layers: dotted module names, e.g. ``['backbone.layer4']``.
        forward_fn: optional ``f(inputs) -> logits`` overriding how the model is called.
        upsample: ``'bilinear'`` (pytorch-grad-cam compatible) or ``'aligned'`` (receptive-field centres,
            see :func:`upsample_maps`).
    """
    #: whether :meth:`get_cam_weights` needs gradients (False skips every backward pass)
    needs_gradients: bool = True
    #: whether the weights depend on the class only through the gradients, so one backward pass can serve a
    #: different class per image (class slots); False (or a gradient-free method): one pass per class
    per_image_classes: bool = True

    def __init__(self,
                 model: nn.Module,
                 target_layers: Sequence[str],
                 forward_fn: Optional[Callable[[Tensor], Tensor]] = None,
                 upsample: str = 'bilinear') -> None:
        if upsample not in UPSAMPLE_MODES:
            raise ValueError(f'upsample must be one of {UPSAMPLE_MODES}, got {upsample!r}')
        self.upsample = upsample
        if is_model_wrapper(model):
            model = model.module
        if isinstance(target_layers, str) or not target_layers:
            raise ValueError(f'target_layers must be a non-empty list of module names, got {target_layers!r}')
        self.model = model
        self.target_layer_names = list(target_layers)
        self.target_layers = []
        for name in self.target_layer_names:
            try:
                self.target_layers.append(model.get_submodule(name))
            except AttributeError as e:
                raise ValueError(f'target layer {name!r} not found in {type(model).__name__}') from e
        if forward_fn is None:
            forward_fn = (lambda x: model(x, mode='tensor')) if isinstance(model, BaseModel) else model
        self.forward_fn = forward_fn
        #: the preprocessed batch while a call is running (for methods that re-run the model)
        self.current_inputs: Optional[Tensor] = None

    # ------------------------------------------------------------------ the part variants override
    @abstractmethod
    def get_cam_weights(self, activations: Tensor, gradients: Optional[Tensor], class_idx: int) -> Tensor:
        """Weights for the activations of one layer.

        Args:
            activations: (N, C, h, w). gradients: (N, C, h, w) or None if ``needs_gradients`` is False.
            class_idx: the class k whose map is computed (same for the whole batch); with class slots an
                (N,) tensor of each image's class (methods with ``per_image_classes = True`` do not read it).
        Returns:
            (N, C, 1, 1) channel weights or (N, C, h, w) element-wise weights.
        """

    def backward_gradients(self, score: Tensor, activations: List[Tensor]) -> List[Tensor]:
        """Gradients of ``score`` w.r.t. each captured activation (graph kept for the next class)."""
        return list(torch.autograd.grad(score, activations, retain_graph=True))

    def layer_cam(self, activations: Tensor, gradients: Optional[Tensor], class_idx: int) -> Tensor:
        """(N, C, h, w) -> (N, h, w): ``sum_c w_c * A_c`` (ReLU applied by the caller)."""
        return (self.get_cam_weights(activations, gradients, class_idx) * activations).sum(1)

    # ------------------------------------------------------------------ the fixed algorithm
    def forward_features(self, inputs: Tensor):
        """Run the model once, capturing target-layer outputs. Returns ``(logits (N, K), [A_l])``."""
        captured: List[Tensor] = []

        def hook(_module, _args, output):
            captured.append(output[0] if isinstance(output, (tuple, list)) else output)

        handles = [layer.register_forward_hook(hook) for layer in self.target_layers]
        try:
            logits = self.forward_fn(inputs)
        finally:
            for h in handles:
                h.remove()
        if isinstance(logits, (tuple, list)):
            logits = logits[-1]
        if len(captured) != len(self.target_layers):
            raise RuntimeError(f'expected {len(self.target_layers)} captured activations, got {len(captured)} '
                               '(is a target layer called more than once per forward?)')
        return logits, captured

    def __call__(self, inputs: Tensor, class_mask: Tensor) -> Tensor:
        """Compute normalized CAMs for the requested classes.

        Args:
            inputs: (N, 3, H, W) preprocessed images.
            class_mask: (N, K) bool, True where class k's map is wanted for image n (e.g. the image-level
                labels). Maps of unrequested (n, k) are all zero.
        Returns:
            (N, K, H, W) float maps in [0, 1].
        """
        if class_mask.dim() != 2 or class_mask.shape[0] != inputs.shape[0]:
            raise ValueError(f'class_mask must be (N, K) with N = {inputs.shape[0]}, got {tuple(class_mask.shape)}')
        class_mask = class_mask.bool().to(inputs.device)
        size = inputs.shape[-2:]
        with torch.enable_grad():
            inputs = inputs.detach().requires_grad_(self.needs_gradients)
            logits, acts = self.forward_features(inputs)
            if logits.dim() != 2 or logits.shape[1] != class_mask.shape[1]:
                raise ValueError(f'model returned logits {tuple(logits.shape)}, class_mask has '
                                 f'{class_mask.shape[1]} classes')
            cams = inputs.new_zeros((inputs.shape[0], class_mask.shape[1], *size))
            self.current_inputs = inputs.detach()
            try:
                if self.needs_gradients and self.per_image_classes:
                    for select in class_slots(class_mask):
                        grads = self.backward_gradients((logits * select).sum(), acts)
                        classes = select.long().argmax(1)
                        maps = self.aggregate_layers(
                            [self.layer_cam(a.detach(), g, classes) for a, g in zip(acts, grads)], size)
                        n, k = select.nonzero(as_tuple=True)
                        cams[n, k] = maps[n].to(cams.dtype)
                else:
                    for k in torch.nonzero(class_mask.any(0)).flatten().tolist():
                        grads = (self.backward_gradients(logits[:, k].sum(), acts)
                                 if self.needs_gradients else [None] * len(acts))
                        cams[:, k] = self.aggregate_layers(
                            [self.layer_cam(a.detach(), g, k) for a, g in zip(acts, grads)], size)
            finally:
                self.current_inputs = None
        return cams * class_mask[:, :, None, None]

    def scaled_layer_maps(self, layer_maps: List[Tensor], size) -> List[Tensor]:
        """Per layer: ReLU, min-max scale, resize to the input size."""
        return [upsample_maps(minmax_scale(F.relu(m)), size, self.upsample) for m in layer_maps]

    def aggregate_layers(self, layer_maps: List[Tensor], size) -> Tensor:
        """[(N, h_l, w_l)] -> (N, H, W): per layer ReLU + scale + resize, then mean over layers + scale."""
        return minmax_scale(F.relu(torch.stack(self.scaled_layer_maps(layer_maps, size), 0)).mean(0))
