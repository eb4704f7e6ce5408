"""``FlipTTAModel`` (mmseg MODELS): test-time augmentation of a segmenter by flips, class probabilities averaged.

The test pipeline's :func:`mmwsss.apis.flip_tta_pipeline` (mmcv ``TestTimeAug``) gives ``V`` views of each image:
itself, mirrored left-right and top-bottom (defect tiles have no orientation). mmseg's segmentor puts each view's
logits ``z_v`` (C, H, W) back into the original frame (un-flip, remove padding, resize to the original size); the
merged prediction is

    p = 1/V sum_v softmax(z_v)          pred = argmax_c p          seg_logits = log p

(one output channel: mmseg already hands back ``sigmoid(z_v)``, so ``p = 1/V sum_v sigmoid(z_v)``,
``pred = p > threshold`` and ``seg_logits = p``, as without TTA). mmseg's ``SegTTAModel`` returns the last view's
sample with that view's own ``seg_logits``; here ``seg_logits`` are the merged ones (softmax of ``log p`` is ``p``),
so the pixel-level metrics (AUROC, AUPRO) and the OK / NG decision read the averaged probabilities, and the
metainfo and GT mask are the first view's (the image itself, unflipped).

With ``gate`` (:class:`~mmwsss.models.class_gate.ClassifierGate` options: the classifier's ``config`` and
``checkpoint``) the merged ``p`` is then gated by the classifier's probabilities of the first view's image
(:func:`~mmwsss.models.class_gate.gate_probabilities`); one view (``tools/test.py --class-gate`` without ``--tta``)
makes it the gate alone.
"""
from typing import List, Optional

import torch
from mmengine.structures import PixelData
from mmseg.models.segmentors import SegTTAModel
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from .class_gate import ClassifierGate, gate_probabilities

EPS = 1e-6


@MODELS.register_module()
class FlipTTAModel(SegTTAModel):
    """``module``: the segmenter config (``tools/test.py --tta`` wraps the config's model); ``gate``: optional
    :class:`~mmwsss.models.class_gate.ClassifierGate` options (``dict(config=..., checkpoint=...)``)."""

    def __init__(self, module, gate: Optional[dict] = None, **kwargs) -> None:
        super().__init__(module, **kwargs)
        classes = (getattr(self.module, 'dataset_meta', None) or {}).get('classes')
        self.gate = ClassifierGate(**dict(dict(classes=classes[1:]) if classes else {}, **gate)) if gate else None
        self._scores = None

    def test_step(self, data):
        """As mmengine's, the classifier's probabilities of the first view's images taken first when gated."""
        if self.gate is None:
            return super().test_step(data)
        first = data['inputs'][0] if isinstance(data, dict) else [views[0]['inputs'] for views in data]
        self._scores = self.gate(list(first))
        try:
            return super().test_step(data)
        finally:
            self._scores = None

    def merge_preds(self, data_samples_list: List[List[SegDataSample]]) -> List[SegDataSample]:
        """Per image, the list of its views' predictions -> one prediction (see the module docstring)."""
        merged = []
        for i, views in enumerate(data_samples_list):
            logits = torch.stack([view.seg_logits.data.float() for view in views])  # (V, C, H, W)
            first = views[0]
            out = SegDataSample(metainfo=first.metainfo)
            prob = logits.softmax(1).mean(0) if logits.shape[1] > 1 else logits.mean(0)  # one channel: sigmoid
            if self._scores is not None:
                prob = gate_probabilities(prob[None], self._scores[i:i + 1], self.gate.mode)[0]
            if logits.shape[1] > 1:
                pred, seg_logits = prob.argmax(0, keepdim=True), prob.clamp(min=EPS).log()
            else:  # one channel: the views' seg_logits are sigmoid probabilities already
                seg_logits = prob
                pred = (seg_logits > self.module.decode_head.threshold).to(seg_logits)
            out.seg_logits = PixelData(data=seg_logits)
            out.pred_sem_seg = PixelData(data=pred)
            if 'gt_sem_seg' in first:
                out.gt_sem_seg = first.gt_sem_seg
            merged.append(out)
        return merged
