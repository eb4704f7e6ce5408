"""``DefectInferencer``: OK / NG inspection of new images with a trained segmenter (OpenMMLab inferencer style).

::

    from mmwsss.apis import DefectInferencer
    inferencer = DefectInferencer('work_dirs/line3/segmenter/line3_segmenter.py',
                                  'work_dirs/line3/segmenter/iter_2000.pth')  # decision.json found beside it
    for result in inferencer(['new/0001.png', 'new/0002.png']):
        print(result['image'], result['decision'], result['classes'])

Per image: ``d = 1 - p(background)`` per pixel; the mask marks ``argmax_k p_k`` (defect classes) where
``d >= score_thr`` (0 elsewhere); the image is NG when the mask has at least ``min_area`` pixels. ``score_thr``
and ``min_area`` come from the ``decision.json`` the pipeline calibrated on the validation split (F1-optimal,
:meth:`mmwsss.apis.wsss_pipeline.WSSSPipeline.calibrate_decision`), else ``score_thr=0.5, min_area=1``.

With a classifier (``classifier=(config, checkpoint)``, the pipeline's stage-1 model) each result also holds
``classifier_scores`` (sigmoid probability per defect class) and ``classifier_decision`` (NG when any class
reaches the head's ``thr``, the threshold it was trained and tested with), and ``decision_by`` picks the final
``decision``: ``'segmenter'`` (default), ``'classifier'``, ``'either'`` (NG if one of them says NG) or
``'both'`` (NG only if both do); ``segmenter_decision`` keeps the segmenter's own call.

With ``tta_scales`` (e.g. ``(1.0, )``) the probabilities are those of test-time augmentation, as ``tools/test.py
--tta``: the image and its mirrors (at each scale) through :class:`~mmwsss.models.FlipTTAModel`, ``p`` averaged.

With ``class_gate`` (needs the classifier) the probabilities are gated by the classifier's before the mask and the
decision are read (:func:`~mmwsss.models.gate_probabilities`, as ``tools/test.py --class-gate``): ``'product'``,
``p'_k = q_k p_k`` for the defect classes and the rest background, or ``'reweight'``, ``p'_c ∝ w_c p_c`` with
``w_0 = 1``, ``w_k = q_k``. The pipeline's ``decision_class_gated.json`` (``class_gate``: ``mode``, ``floors``) gives
the mode and the recall floors (``q_k`` -> ``min(1, q_k / tau_k)``, :func:`~mmwsss.models.calibrated_scores`), so
the gate is the one the pipeline measured.
"""
import json
import os.path as osp
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Union

import cv2
import numpy as np
import torch

from mmwsss.datasets.layout import ImageDecodeError, read_image
from mmwsss.models.class_gate import GATE_MODES, ClassifierGate, calibrated_scores, gate_probabilities
from .runner_config import flip_tta_pipeline, without_masks

DEFAULT_DECISION = dict(score_thr=0.5, min_area=1)
DECISION_KEYS = tuple(DEFAULT_DECISION)  # what an OK / NG rule consists of
GATE_KEY = 'class_gate'  # a class-gated rule's gate (its recall floors), kept from a decision file
DECISION_BY = ('segmenter', 'classifier', 'either', 'both')


def load_decision(decision: Union[None, str, dict], checkpoint: str, embedded: Optional[Dict] = None) -> Dict:
    """The OK / NG rule: a dict, a ``decision.json`` path, or (None) the rule stored in an exported model
    (``embedded``), else the ``decision.json`` beside ``checkpoint``, else ``DEFAULT_DECISION``."""
    if isinstance(decision, dict):
        out = dict(DEFAULT_DECISION, **decision)
    elif decision is None and embedded is not None:
        out = dict(DEFAULT_DECISION, **embedded, source=f'{checkpoint} (metadata)')
    else:
        path = decision or osp.join(osp.dirname(osp.abspath(checkpoint)), 'decision.json')
        if decision and not osp.isfile(path):
            raise FileNotFoundError(f'decision file not found: {path} (written by tools/run_pipeline.py next to '
                                    'the segmenter; or pass --score-thr)')
        out = dict(DEFAULT_DECISION)
        if osp.isfile(path):
            with open(path) as f:
                out.update({k: v for k, v in json.load(f).items() if k in DECISION_KEYS + (GATE_KEY, )})
            out['source'] = path
    if not 0.0 <= float(out['score_thr']) <= 1.0 or int(out['min_area']) < 1:
        raise ValueError(f"decision score_thr must be in [0, 1] and min_area >= 1, got {out}")
    return out


def describe_prediction(probs: torch.Tensor, classes: List[str], decision: Dict) -> Dict:
    """(C, H, W) class probabilities of one image -> mask (H, W) uint8, decision and per-class findings.

    Returns:
        dict ``mask`` (numpy), ``decision`` ('OK' / 'NG'), ``score`` (max defect probability), ``defect_area``
        and ``classes``: per defect class ``area_px``, ``area_pct``, ``max_prob``, ``regions`` (connected
        components: ``box`` [x, y, w, h] and ``area_px``), for the classes present in the mask.
    """
    defect = 1 - probs[0]
    label = probs[1:].argmax(0) + 1
    mask = torch.where(defect >= decision['score_thr'], label, torch.zeros_like(label)).to(torch.uint8).cpu().numpy()
    total = mask.size
    found = {}
    for k in np.unique(mask):
        if k == 0:
            continue
        binary = (mask == k).astype(np.uint8)
        n, _, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
        found[classes[k]] = dict(
            area_px=int(binary.sum()), area_pct=round(100.0 * float(binary.sum()) / total, 4),
            max_prob=round(float(probs[k].max()), 4),
            regions=[dict(box=[int(v) for v in stats[i, :4]], area_px=int(stats[i, 4])) for i in range(1, n)])
    area = int((mask != 0).sum())
    return dict(mask=mask, decision='NG' if area >= decision['min_area'] else 'OK', score=round(float(defect.max()), 4),
                defect_area=area, classes=found)


class DefectInferencer:
    """Args:
        config: segmenter config (mmseg), e.g. the one the pipeline trained (its test pipeline is used).
        checkpoint: its checkpoint (a pickle: trusted files only), or a ``.onnx`` file exported by
            ``tools/deployment/pytorch2onnx.py`` (run by ONNX Runtime; classes and decision from its metadata).
        decision: the OK / NG rule (dict / decision.json path / None = stored with the model).
        device: torch device (PyTorch checkpoints).
        batch_size: images per forward pass (consecutive images of one size are batched).
        classifier: optional ``(config, checkpoint)`` of the multi-label classifier (mmpretrain).
        decision_by: which model decides OK / NG (see the module docstring).
        tta_scales: test-time augmentation at these scales of the test size, each with its mirrors (PyTorch
            checkpoints); ``None``: off.
        class_gate: gate the segmenter's probabilities by the classifier's (see the module docstring).
        gate_recall: calibrate the gate's recall floors on the classifier config's val split at this recall
            (:meth:`~mmwsss.models.ClassifierGate.calibrate`) instead of reading them from ``decision``.
        gate_mode: ``'product'`` / ``'reweight'`` (:func:`~mmwsss.models.gate_probabilities`); default: the
            decision file's ``class_gate.mode``, else ``'product'``.
    """

    def __init__(self, config: str, checkpoint: str, decision: Union[None, str, dict] = None, device: str = 'cpu',
                 batch_size: int = 4, classifier: Optional[tuple] = None, decision_by: str = 'segmenter',
                 tta_scales: Optional[Sequence[float]] = None, class_gate: bool = False,
                 gate_recall: Optional[float] = None, gate_mode: Optional[str] = None) -> None:
        from mmengine.config import Config
        from mmengine.dataset import Compose
        from mmengine.registry import DefaultScope
        if not osp.isfile(checkpoint):
            raise FileNotFoundError(f'segmenter checkpoint not found: {checkpoint}')
        if batch_size < 1:
            raise ValueError(f'--batch-size must be >= 1, got {batch_size}')
        self.cfg = Config.fromfile(config) if isinstance(config, str) else config
        self.model = self.onnx = self.tta = None
        embedded = None
        if tta_scales is not None and checkpoint.lower().endswith('.onnx'):
            raise ValueError(f'{checkpoint}: test-time augmentation (--tta) runs PyTorch checkpoints, not ONNX models')
        with DefaultScope.overwrite_default_scope('mmseg'):
            if checkpoint.lower().endswith('.onnx'):
                from .segmenter_export import OnnxSegmenter
                if device != 'cpu':
                    raise ValueError(f'{checkpoint}: ONNX models run on the CPU (ONNX Runtime CPUExecutionProvider); '
                                     f'use --device cpu, or the .pth checkpoint for {device}')
                self.onnx = OnnxSegmenter(checkpoint)
                self.classes = self.onnx.classes
                embedded = self.onnx.decision
                num = self.cfg.model.decode_head.get('num_classes')
                if num is not None and num != len(self.classes):
                    raise ValueError(f'{checkpoint} predicts {len(self.classes)} classes, the config {num}: use the '
                                     'config the model was exported from')
            else:
                from mmseg.apis import init_model
                self.model = init_model(self.cfg, checkpoint, device=device)
                self.classes = list(self.model.dataset_meta['classes'])
            steps = without_masks(self.cfg.test_dataloader.dataset.pipeline)
            if tta_scales is not None:
                from mmseg.registry import MODELS
                steps = flip_tta_pipeline(steps, tta_scales)
                self.tta = MODELS.build(dict(type='FlipTTAModel', module=self.model)).eval()
            steps[0] = dict(type='LoadImageFromNDArray')
            self.pipeline = Compose(steps)
        self.decision = load_decision(decision, checkpoint, embedded)
        self.batch_size = batch_size
        if decision_by not in DECISION_BY or (decision_by != 'segmenter' and classifier is None):
            raise ValueError(f'decision_by must be one of {DECISION_BY} ("{decision_by}" given; all but "segmenter" '
                             'need a classifier: --classifier CONFIG CHECKPOINT)')
        self.decision_by = decision_by
        if class_gate and classifier is None:
            raise ValueError('class_gate needs a classifier (--classifier CONFIG CHECKPOINT, the pipeline\'s '
                             'classifier/ folder)')
        self.class_gate = class_gate
        gate_cfg = (self.decision.get(GATE_KEY) or {}) if class_gate else {}
        floors = gate_cfg.get('floors')
        self.gate_mode = gate_mode or gate_cfg.get('mode', 'product')
        if self.gate_mode not in GATE_MODES:
            raise ValueError(f'class gate mode must be one of {GATE_MODES}, got {self.gate_mode!r}')
        self.gate_floors = None if floors is None else torch.tensor(floors, dtype=torch.float32)
        self.classifier = self.classifier_pipeline = None
        if classifier is not None:
            self._init_classifier(*classifier, device=device)
        if class_gate and gate_recall is not None:
            self.gate_floors = torch.tensor(self._gate.calibrate(gate_recall))

    def _init_classifier(self, config: str, checkpoint: str, device: str) -> None:
        from mmengine.dataset import Compose
        from mmengine.registry import DefaultScope
        loaded = ClassifierGate(config, checkpoint, classes=self.classes[1:], device=device)
        self._gate = loaded
        self.classifier = loaded.classifier
        with DefaultScope.overwrite_default_scope('mmpretrain'):
            # the decoded image goes in directly (mmpretrain has no LoadImageFromNDArray): loading steps dropped
            steps = [dict(s) for s in loaded.cfg.test_dataloader.dataset.pipeline if 'LoadImage' not in s['type']]
            self.classifier_pipeline = Compose(steps)
        self.classifier_thr = float(self.classifier.head.thr if self.classifier.head.thr is not None else 0.5)

    @torch.no_grad()
    def classify_arrays(self, images: List[np.ndarray]) -> torch.Tensor:
        """BGR images -> (N, K) sigmoid probabilities of the defect classes."""
        from mmengine.dataset import pseudo_collate
        from mmengine.registry import DefaultScope
        with DefaultScope.overwrite_default_scope('mmpretrain'):
            batch = pseudo_collate([self.classifier_pipeline(dict(img=img, img_shape=img.shape[:2],
                                                                  ori_shape=img.shape[:2])) for img in images])
            samples = self.classifier.test_step(batch)
        return torch.stack([s.pred_score.float().cpu() for s in samples])

    def _decide(self, result: Dict, scores: torch.Tensor) -> Dict:
        """Add the classifier's view to one segmenter result and apply ``decision_by``."""
        classifier_ng = bool((scores >= self.classifier_thr).any())
        segmenter_ng = result['decision'] == 'NG'
        ng = dict(segmenter=segmenter_ng, classifier=classifier_ng, either=segmenter_ng or classifier_ng,
                  both=segmenter_ng and classifier_ng)[self.decision_by]
        return dict(result, decision='NG' if ng else 'OK', segmenter_decision=result['decision'],
                    classifier_decision='NG' if classifier_ng else 'OK',
                    classifier_scores={c: round(float(p), 4) for c, p in zip(self.classes[1:], scores)})

    @torch.no_grad()
    def probabilities(self, images: List[np.ndarray]) -> List[torch.Tensor]:
        """BGR images of one size -> per image the (C, H, W) class probabilities at the image's size."""
        from mmengine.dataset import pseudo_collate
        batch = pseudo_collate([self.pipeline(dict(img=img)) for img in images])
        if self.onnx is not None:
            logits = self.onnx.seg_logits(batch)
        else:
            logits = [s.seg_logits.data for s in (self.tta or self.model).test_step(batch)]
        return [one.float().softmax(0) for one in logits]

    def predict_arrays(self, images: List[np.ndarray]) -> List[Dict]:
        """BGR images of one size -> :func:`describe_prediction` results."""
        probs = self.probabilities(images)
        if self.classifier is None:
            return [describe_prediction(p, self.classes, self.decision) for p in probs]
        scores = self.classify_arrays(images)
        if self.class_gate:
            gate = scores if self.gate_floors is None else calibrated_scores(scores, self.gate_floors)
            probs = gate_probabilities(torch.stack(probs), gate, self.gate_mode)
        return [self._decide(describe_prediction(p, self.classes, self.decision), s) for p, s in zip(probs, scores)]

    def __call__(self, paths: Iterable[str], keep_image: bool = False) -> Iterator[Dict]:
        """Yield per image ``dict(image=path, **describe_prediction(...))`` (plus ``img``, the decoded BGR image,
        with ``keep_image``), or ``dict(image, error)`` for a file that does not decode (never stops halfway)."""
        pending: List[tuple] = []
        for path in paths:
            try:
                img = read_image(path, cv2.IMREAD_COLOR)
            except ImageDecodeError as err:
                yield from self._flush(pending, keep_image)
                pending = []
                yield dict(image=path, error=str(err))
                continue
            if pending and (img.shape != pending[0][1].shape or len(pending) == self.batch_size):
                yield from self._flush(pending, keep_image)
                pending = []
            pending.append((path, img))
        yield from self._flush(pending, keep_image)

    def _flush(self, pending: List[tuple], keep_image: bool) -> Iterator[Dict]:
        if pending:
            for (path, img), result in zip(pending, self.predict_arrays([img for _, img in pending])):
                yield dict(image=path, **result, **(dict(img=img) if keep_image else {}))


def list_inputs(inputs: Union[str, List[str]]) -> List[str]:
    """An image, a folder (searched recursively and sorted as the folder converter does:
    :func:`~mmwsss.datasets.folder_converter.list_images`) or a ``.txt`` list (one path per line) -> paths."""
    from mmwsss.datasets.folder_converter import list_images
    out: List[str] = []
    for item in [inputs] if isinstance(inputs, str) else inputs:
        if osp.isdir(item):
            out += [osp.join(item, rel) for rel in list_images(item)]
        elif item.lower().endswith('.txt'):
            with open(item, encoding='utf-8') as f:
                out += [line.strip() for line in f if line.strip()]
        elif osp.isfile(item):
            out.append(item)
        else:
            raise FileNotFoundError(f'input not found: {item} (an image, a folder or a .txt list of paths)')
    return out
