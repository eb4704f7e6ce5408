"""ONNX export of a trained mmseg segmenter, and the ONNX Runtime session that runs it like the PyTorch model.

The exported graph is the model from the test pipeline's output to the logits, data preprocessing included:

    img (N, 3, H, W) float32, channels as the test pipeline leaves them (BGR from ``LoadImageFromFile``)
      -> [2, 1, 0] channels (when the config's preprocessor converts BGR -> RGB) -> (x - mean) / std
      -> zero padding right / bottom to the preprocessor's ``test_cfg`` (``size`` / ``size_divisor``)
      -> backbone, neck, decode head (+ the logit offsets of a
         :class:`~mmwsss.models.LogitAdjustedEncoderDecoder`) -> bilinear resize to the padded size -> crop to (H, W)
      -> logits (N, C, H, W)

which is what mmseg's ``SegDataPreProcessor`` + ``EncoderDecoder.predict`` compute ('whole' inference) before
the last resize to the original image size (:class:`OnnxSegmenter` does that resize, as mmseg does). Height and
width are dynamic (any size), the batch too. Class names and the OK / NG decision are stored in the file's
metadata (``mmwsss.classes``, ``mmwsss.decision``, ``mmwsss.align_corners``: JSON): an exported file deploys
alone.
"""
import contextlib
import json
import warnings
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

ONNX_CLASSES_KEY = 'mmwsss.classes'
ONNX_DECISION_KEY = 'mmwsss.decision'
ONNX_ALIGN_CORNERS_KEY = 'mmwsss.align_corners'


class ExportableSegmenter(nn.Module):
    """An mmseg ``EncoderDecoder`` as one tensor -> tensor function (see the module docstring).

    Args:
        segmentor: the mmseg model (eval mode), 'whole' inference.
    """

    def __init__(self, segmentor: nn.Module) -> None:
        super().__init__()
        mode = segmentor.test_cfg.get('mode', 'whole') if segmentor.test_cfg else 'whole'
        if mode != 'whole':
            raise ValueError(f"ONNX export supports model.test_cfg.mode='whole' only, the config has '{mode}' "
                             "(set --cfg-options model.test_cfg.mode=whole)")
        self.segmentor = segmentor
        pre = segmentor.data_preprocessor
        self.bgr_to_rgb = bool(pre.channel_conversion)
        self.normalize = bool(pre._enable_normalize)
        self.register_buffer('mean', pre.mean.detach().clone() if self.normalize else torch.zeros(3, 1, 1))
        self.register_buffer('std', pre.std.detach().clone() if self.normalize else torch.ones(3, 1, 1))
        test_cfg = pre.test_cfg or {}
        self.pad_size = tuple(test_cfg.get('size') or ()) or None
        self.size_divisor = test_cfg.get('size_divisor')
        self.pad_val = float(pre.pad_val)

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) float pipeline output -> (N, C, H, W) logits."""
        h, w = img.shape[-2:]
        x = img[:, [2, 1, 0]] if self.bgr_to_rgb else img
        x = (x - self.mean) / self.std
        pad_h = pad_w = 0
        if self.pad_size is not None:
            pad_h, pad_w = max(self.pad_size[0] - h, 0), max(self.pad_size[1] - w, 0)
        if self.size_divisor:
            pad_h = (-(h + pad_h)) % self.size_divisor + pad_h
            pad_w = (-(w + pad_w)) % self.size_divisor + pad_w
        x = F.pad(x, (0, pad_w, 0, pad_h), value=self.pad_val)
        logits = self.segmentor.decode_head.forward(self.segmentor.extract_feat(x))
        adjust = getattr(self.segmentor, 'adjust', None)  # LogitAdjustedEncoderDecoder's offsets
        if adjust is not None:
            logits = adjust(logits)
        logits = F.interpolate(logits, size=x.shape[-2:], mode='bilinear',
                               align_corners=self.segmentor.decode_head.align_corners)
        return logits[..., :h, :w]


def _traceable_same_padding(self, x: torch.Tensor) -> torch.Tensor:
    """mmcv ``Conv2dAdaptivePadding.forward`` (TF "SAME" padding) without ``math.ceil`` / ``max`` on sizes, so
    that a traced graph keeps the padding a function of the input size: the total padding along a side of
    size ``n`` is ``k_eff - ((n - 1) % s + 1)`` with ``k_eff = (k - 1) * d + 1``, which equals
    ``max((ceil(n / s) - 1) * s + k_eff - n, 0)`` whenever ``k_eff >= s`` (every EfficientNet convolution)."""
    h, w = x.shape[-2:]
    (kh, kw), (sh, sw), (dh, dw) = self.weight.shape[-2:], self.stride, self.dilation
    if (kh - 1) * dh + 1 < sh or (kw - 1) * dw + 1 < sw:
        raise ValueError(f'ONNX export: a {kh}x{kw} Conv2dAdaptivePadding with stride {self.stride} is not supported')
    pad_h = (kh - 1) * dh + 1 - ((h - 1) % sh + 1)
    pad_w = (kw - 1) * dw + 1 - ((w - 1) % sw + 1)
    x = F.pad(x, [pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2])
    return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


@contextlib.contextmanager
def traceable_same_padding():
    """Within the block, mmcv's ``Conv2dAdaptivePadding`` pads by :func:`_traceable_same_padding` (the same
    numbers; its own forward bakes the traced image size into the graph: other sizes come out cropped)."""
    from mmcv.cnn.bricks.conv2d_adaptive_padding import Conv2dAdaptivePadding
    original = Conv2dAdaptivePadding.forward
    Conv2dAdaptivePadding.forward = _traceable_same_padding
    try:
        yield
    finally:
        Conv2dAdaptivePadding.forward = original


def export_onnx(segmentor: nn.Module, out: str, example: torch.Tensor, classes: List[str],
                decision: Optional[Dict] = None, opset: int = 17) -> None:
    """Write ``segmentor`` (see :class:`ExportableSegmenter`) to ``out`` with dynamic batch / height / width.

    Args:
        example: (N, 3, H, W) float input used to trace the graph.
        classes: class names (index = class id), stored in the metadata.
        decision: the OK / NG rule (``score_thr``, ``min_area``: JSON-serialisable) stored in the metadata, if any.
    """
    import onnx
    wrapper = ExportableSegmenter(segmentor).eval()
    # TorchScript-based exporter: torch.export (dynamo=True) did not finish within 15 minutes on DeepLabV3+
    # with dynamic height / width (torch 2.14); this one takes about a second and matches to 1e-7.
    axes = {0: 'batch', 2: 'height', 3: 'width'}
    with torch.no_grad(), warnings.catch_warnings(), traceable_same_padding():
        warnings.simplefilter('ignore')  # the exporter's own deprecation and tracer notes
        torch.onnx.export(wrapper, (example, ), out, dynamo=False, opset_version=opset, input_names=['img'],
                          output_names=['logits'], dynamic_axes={'img': axes, 'logits': axes})
    model = onnx.load(out)
    meta = {ONNX_CLASSES_KEY: json.dumps(list(classes)),
            ONNX_ALIGN_CORNERS_KEY: json.dumps(bool(segmentor.decode_head.align_corners))}
    if decision is not None:
        meta[ONNX_DECISION_KEY] = json.dumps(decision)
    for key, value in meta.items():
        model.metadata_props.add(key=key, value=value)
    onnx.checker.check_model(model)
    onnx.save(model, out)


class OnnxSegmenter:
    """An exported segmenter in ONNX Runtime, with the PyTorch model's ``test_step`` output per image.

    Args:
        path: ``.onnx`` file written by :func:`export_onnx`.
        num_threads: intra-op threads (None: as many as PyTorch uses, ``torch.get_num_threads()``, which
            follows ``OMP_NUM_THREADS``; 0: ONNX Runtime's default).
    """

    def __init__(self, path: str, num_threads: Optional[int] = None) -> None:
        import onnxruntime as ort
        options = ort.SessionOptions()
        threads = torch.get_num_threads() if num_threads is None else num_threads
        if threads:
            options.intra_op_num_threads = threads
        self.session = ort.InferenceSession(path, options, providers=['CPUExecutionProvider'])
        meta = self.session.get_modelmeta().custom_metadata_map
        if ONNX_CLASSES_KEY not in meta:
            raise ValueError(f'{path}: no {ONNX_CLASSES_KEY} metadata; export it with tools/deployment/pytorch2onnx.py')
        self.classes: List[str] = json.loads(meta[ONNX_CLASSES_KEY])
        self.decision: Optional[Dict] = json.loads(meta[ONNX_DECISION_KEY]) if ONNX_DECISION_KEY in meta else None
        self.align_corners = bool(json.loads(meta.get(ONNX_ALIGN_CORNERS_KEY, 'false')))

    def logits(self, img: np.ndarray) -> np.ndarray:
        """(N, 3, H, W) float32 -> (N, C, H, W) logits."""
        return self.session.run(['logits'], {'img': np.ascontiguousarray(img, dtype=np.float32)})[0]

    def seg_logits(self, batch: Dict) -> List[torch.Tensor]:
        """A collated test-pipeline batch (``inputs``: list of (3, H, W) tensors, ``data_samples``) -> per image
        (C, H0, W0) logits at the original size (bilinear, as mmseg's ``postprocess_result``)."""
        inputs = torch.stack([t.float() for t in batch['inputs']]).numpy()
        logits = torch.from_numpy(self.logits(inputs))
        out = []
        for one, sample in zip(logits, batch['data_samples']):
            size: Tuple[int, int] = tuple(sample.metainfo['ori_shape'][:2])
            if tuple(one.shape[-2:]) != size:
                one = F.interpolate(one[None], size=size, mode='bilinear', align_corners=self.align_corners)[0]
            out.append(one)
        return out
