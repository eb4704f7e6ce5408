"""Export a trained segmenter to ONNX (dynamic batch, height and width) and check it against PyTorch.

    python tools/deployment/pytorch2onnx.py CONFIG CHECKPOINT --out model.onnx [--shape 256 320] [--decision FILE]

The graph takes the test pipeline's output (N, 3, H, W) float32 (BGR as loaded) and returns logits (N, C, H, W);
normalisation and padding are inside (see ``mmwsss.apis.segmenter_export``). Class names and the OK / NG
decision calibrated by the pipeline (the ``decision.json`` beside the checkpoint, or ``--decision``) are stored
in the file's metadata, so
``tools/predict.py CONFIG INPUT ... --onnx model.onnx`` needs nothing else. After writing, ONNX Runtime runs the
file on a random input of ``--shape`` and on one of a second size; the tool fails if the logits differ from
PyTorch's by more than ``--atol`` or any argmax differs.
"""
import argparse

import numpy as np
import torch

from mmwsss.utils import add_debug_flag, cfg_options_action, cli_main


def parse_args():
    parser = argparse.ArgumentParser(description='Export an mmwsss segmenter to ONNX')
    parser.add_argument('config', help='segmenter config')
    parser.add_argument('checkpoint', help='segmenter checkpoint (a pickle: load trusted files only)')
    parser.add_argument('--out', required=True, help='output .onnx file')
    parser.add_argument('--shape', type=int, nargs=2, default=[256, 256], metavar=('H', 'W'),
                        help='input size traced and checked (any size runs later)')
    parser.add_argument('--decision', help='decision.json to store (default: the one beside the checkpoint)')
    parser.add_argument('--opset', type=int, default=17)
    parser.add_argument('--atol', type=float, default=1e-4, help='largest logit difference accepted')
    parser.add_argument('--cfg-options', nargs='+', action=cfg_options_action(), help='override config settings')
    add_debug_flag(parser)
    return parser.parse_args()


def check_parity(segmentor, path: str, shapes, atol: float) -> float:
    """Largest |ONNX Runtime - PyTorch| logit over random inputs of ``shapes``; raises if above ``atol`` or an
    argmax differs (pixels whose two best logits are within ``2 atol`` of each other are ties, not compared)."""
    from mmwsss.apis.segmenter_export import ExportableSegmenter, OnnxSegmenter
    wrapper, session = ExportableSegmenter(segmentor).eval(), OnnxSegmenter(path)
    generator = torch.Generator().manual_seed(0)
    worst = 0.0
    for shape in shapes:
        img = torch.rand(shape, generator=generator) * 255
        with torch.no_grad():
            expected = wrapper(img).numpy()
        got = session.logits(img.numpy())
        diff = float(np.abs(got - expected).max())
        worst = max(worst, diff)
        top2 = np.sort(expected, axis=1)[:, -2:]
        decided = (top2[:, 1] - top2[:, 0]) > 2 * atol  # pixels whose argmax is not a near-tie
        same = float((got.argmax(1) == expected.argmax(1))[decided].mean())
        if diff > atol or same < 1.0:
            raise RuntimeError(f'{path}: ONNX Runtime differs from PyTorch on input {tuple(shape)}: max |logit '
                               f'difference| {diff:.2e} (atol {atol:.0e}), {100 * same:.3f} % same argmax')
    return worst


def main():
    args = parse_args()
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmseg.apis import init_model

    from mmwsss.apis.defect_inferencer import DECISION_KEYS, DEFAULT_DECISION, load_decision
    from mmwsss.apis.segmenter_export import export_onnx
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    with DefaultScope.overwrite_default_scope('mmseg'):
        segmentor = init_model(cfg, args.checkpoint, device='cpu').eval()
    decision = load_decision(args.decision, args.checkpoint)
    if 'source' not in decision:  # no decision.json beside the checkpoint and none given
        print(f'[mmwsss] warning: no decision.json beside {args.checkpoint}: no OK / NG rule stored (predict uses '
              f'its default {DEFAULT_DECISION} or --score-thr); pass --decision FILE to store one')
        decision = None
    else:
        decision = {k: decision[k] for k in DECISION_KEYS}
    h, w = args.shape
    export_onnx(segmentor, args.out, torch.zeros(1, 3, h, w), list(segmentor.dataset_meta['classes']), decision,
                opset=args.opset)
    worst = check_parity(segmentor, args.out, [(1, 3, h, w), (2, 3, h + 37, w + 19)], args.atol)
    print(f'[mmwsss] wrote {args.out}: dynamic batch / height / width, decision {decision}; ONNX Runtime matches '
          f'PyTorch (max |logit difference| {worst:.1e}, same argmax)')


if __name__ == '__main__':
    cli_main(main)
