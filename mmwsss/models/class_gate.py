"""Class gating of a segmenter by the image-level classifier: the pipeline's stage-1 model says which defect
classes an image holds, the segmenter says where.

With ``p`` (C, H, W) the segmenter's class probabilities (channel 0 background, channel ``k >= 1`` the classifier's
class ``k - 1``) and ``q`` (K,) = (C - 1,) the classifier's sigmoid probabilities of the image:

    p'_k = q_{k-1} p_k   (k >= 1)          p'_0 = 1 - sum_{k >= 1} p'_k          pred = argmax_c p'_c

``p_k`` is read as ``P(pixel is k | class k is in the image)`` and ``q`` as ``P(class k is in the image)``: the
product needs no threshold and no mask, a class the classifier rules out cannot be painted, and a class it is
sure of keeps the segmenter's map. A segmenter with one output channel (``p`` = P(defect)) is gated by the most
likely class: ``p' = max_k q_k p``. The classifier uses only the image-level labels a weakly supervised run has.

Recall-calibrated gate (``recall``): a classifier with weak recall on a class (its probabilities stay low on
images that hold it) would erase that class. With floors ``tau_k``, the ``(1 - recall)`` quantile of ``q_k`` over
the validation images labelled ``k`` (:func:`recall_floors`; image labels only), the gate uses

    q'_k = min(1, q_k / tau_k)

so the images that ``recall`` of the class's images reach pass ungated, and an image the classifier scores well
below them is still damped. A class without labelled validation images gets ``tau_k = 0`` (not gated).
"""
import os.path as osp
from typing import List, Optional, Sequence

import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.registry import DefaultScope
from torch import Tensor, nn

GATE_MODES = ('product', 'reweight')


def gate_probabilities(probs: Tensor, scores: Tensor, mode: str = 'product') -> Tensor:
    """(N, C, H, W) segmenter probabilities, (N, C - 1) classifier probabilities -> gated (N, C, H, W) (see the
    module docstring); C = 1: (N, 1, H, W) gated by ``scores.max(1)`` in either mode.

    ``mode='product'``: ``p'_k = q_k p_k``, the removed mass goes to the background. ``mode='reweight'``: the
    classifier as a prior on the classes, ``p'_c ∝ w_c p_c`` with ``w_0 = 1``, ``w_k = q_k`` (renormalized per
    pixel), so the removed mass is shared by the background and the classes the image keeps.
    """
    if mode not in GATE_MODES:
        raise ValueError(f'class gate mode must be one of {GATE_MODES}, got {mode!r}')
    if probs.dim() != 4 or scores.dim() != 2 or scores.shape[0] != probs.shape[0]:
        raise ValueError(f'gate: probs must be (N, C, H, W) and scores (N, K), got {tuple(probs.shape)} and '
                         f'{tuple(scores.shape)}')
    scores = scores.to(probs)
    if probs.shape[1] == 1:
        return probs * scores.max(1).values[:, None, None, None]
    if scores.shape[1] != probs.shape[1] - 1:
        raise ValueError(f'gate: the classifier scores {scores.shape[1]} classes, the segmenter {probs.shape[1]} '
                         '(background + defect classes): use the two models of one pipeline run')
    defects = probs[:, 1:] * scores[:, :, None, None]
    if mode == 'reweight':
        weighted = torch.cat([probs[:, :1], defects], 1)
        return weighted / weighted.sum(1, keepdim=True).clamp(min=1e-12)
    return torch.cat([(1 - defects.sum(1, keepdim=True)).clamp(min=0), defects], 1)


def recall_floors(scores: Tensor, labels: Tensor, recall: float = 0.95) -> Tensor:
    """(N, K) classifier probabilities, (N, K) bool image labels of a validation split -> (K,) floors ``tau_k``:
    the ``(1 - recall)`` quantile (linear interpolation) of ``scores[:, k]`` over the images with ``labels[:, k]``;
    0 for a class without such an image."""
    if scores.shape != labels.shape or scores.dim() != 2:
        raise ValueError(f'recall_floors: scores and labels must both be (N, K), got {tuple(scores.shape)} and '
                         f'{tuple(labels.shape)}')
    if not 0 < recall <= 1:
        raise ValueError(f'class gate recall must be in (0, 1], got {recall}')
    held = torch.where(labels.bool(), scores.float(), torch.full_like(scores, float('nan'), dtype=torch.float32))
    return torch.nanquantile(held, 1 - recall, dim=0).nan_to_num(0.0)


def calibrated_scores(scores: Tensor, floors: Tensor) -> Tensor:
    """(N, K) probabilities, (K,) floors -> ``min(1, q_k / tau_k)`` (1 where ``tau_k = 0``)."""
    floors = floors.to(scores)
    return torch.where(floors > 0, scores / floors.clamp(min=1e-12), torch.ones_like(scores)).clamp(max=1)


class ClassifierGate(nn.Module):
    """The image-level classifier as a gate: raw images -> (N, K) sigmoid probabilities of its defect classes.
    Also how :class:`~mmwsss.apis.DefectInferencer` loads its classifier (``classifier``, ``cfg``).

    Args:
        config: the classifier's config file or Config (mmpretrain; for :meth:`forward` its test pipeline's
            ``Resize`` gives the input size).
        checkpoint: its checkpoint (a pickle: load trusted files only).
        classes: optional defect class names the caller expects (the segmenter's, background excluded); a
            classifier trained on other classes is refused.
        device: where the classifier runs.
        floors: (K,) recall floors ``tau_k`` (module docstring): :meth:`forward` returns ``min(1, q_k / tau_k)``.
        recall: without ``floors``, calibrate them on the classifier config's validation split at this recall
            (:meth:`calibrate`); neither: the plain probabilities.
        mode: how its scores gate a segmenter (:func:`gate_probabilities`): ``'product'`` or ``'reweight'``.
    """

    def __init__(self, config, checkpoint: str, classes: Optional[Sequence[str]] = None, device: str = 'cpu',
                 floors: Optional[Sequence[float]] = None, recall: Optional[float] = None,
                 mode: str = 'product') -> None:
        super().__init__()
        if mode not in GATE_MODES:
            raise ValueError(f'class gate mode must be one of {GATE_MODES}, got {mode!r}')
        self.mode = mode
        from mmpretrain.apis import init_model  # mmpretrain.apis (its inferencers) only when needed
        if not osp.isfile(checkpoint):
            raise FileNotFoundError(f'classifier checkpoint not found: {checkpoint}')
        self.cfg = Config.fromfile(config) if isinstance(config, str) else config
        with DefaultScope.overwrite_default_scope('mmpretrain'):
            self.classifier = init_model(self.cfg, checkpoint, device=device).eval()
        names = list((getattr(self.classifier, '_dataset_meta', None) or {}).get('classes') or [])
        if classes is not None and names and names != list(classes):
            raise ValueError(f'the classifier {checkpoint} knows classes {names}, the segmenter {list(classes)}: use '
                             'the two models of one pipeline run')
        self.classes = names or (list(classes) if classes is not None else None)
        self.floors = None if floors is None else torch.tensor(list(floors), dtype=torch.float32)
        if self.floors is None and recall is not None:
            self.calibrate(recall)

    def calibrate(self, recall: float = 0.95, batch_size: int = 16) -> List[float]:
        """Set the recall floors from the classifier config's validation split (``val_dataloader``: its images
        and image-level labels, no mask) and return them: :func:`recall_floors` of :meth:`forward`'s plain
        probabilities."""
        import mmcv
        from mmpretrain.registry import DATASETS
        with DefaultScope.overwrite_default_scope('mmpretrain'):
            dataset = DATASETS.build(self.cfg.val_dataloader.dataset)
        infos = [dataset.get_data_info(i) for i in range(len(dataset))]
        num_classes = len(dataset.metainfo['classes'])
        labels = torch.zeros(len(infos), num_classes, dtype=torch.bool)
        for i, info in enumerate(infos):
            labels[i, list(info['gt_label'])] = True
        self.floors, scores = None, []
        for start in range(0, len(infos), batch_size):  # loaded as the segmenter's pipeline does (BGR, 3 channels)
            images = [torch.from_numpy(mmcv.imread(info['img_path'])).permute(2, 0, 1)
                      for info in infos[start:start + batch_size]]
            scores.append(self(images).cpu())
        self.floors = recall_floors(torch.cat(scores), labels, recall) if scores else torch.zeros(num_classes)
        return [round(float(t), 6) for t in self.floors]

    def input_size(self):
        """(h, w) of the classifier's input: its test pipeline's one ``Resize(scale=..., keep_ratio=False)``."""
        resize = [s for s in self.cfg.test_dataloader.dataset.pipeline if s.get('type') == 'Resize']
        if len(resize) != 1 or 'scale' not in resize[0] or resize[0].get('keep_ratio', False):
            raise ValueError(f'class gate: the classifier config {self.cfg.filename} must resize to a fixed (w, h) in '
                             f'its test pipeline (Resize(scale=..., keep_ratio=False)), got {resize}')
        scale = resize[0]['scale']
        return (scale, scale) if isinstance(scale, int) else (int(scale[1]), int(scale[0]))

    @torch.no_grad()
    def forward(self, images: List[Tensor]) -> Tensor:
        """Images as loaded (uint8 (3, H, W), the segmenter's channel order before its preprocessor, any sizes)
        -> (N, K) sigmoid probabilities (the classifier's ``pred_score``), recall-calibrated when the gate has
        floors."""
        device, size = next(self.classifier.parameters()).device, self.input_size()
        resized = [F.interpolate(img[None].to(device).float(), size=size, mode='bilinear', align_corners=False)[0]
                   for img in images]
        samples = self.classifier.test_step(dict(inputs=resized))
        scores = torch.stack([s.pred_score.float() for s in samples])
        return scores if self.floors is None else calibrated_scores(scores, self.floors)
