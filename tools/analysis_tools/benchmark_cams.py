"""Speed (images/s) and peak memory of CAM methods on one model and the same inputs, with pytorch-grad-cam's
GradCAM and LayerCAM timed in the same run as anchors.

    python tools/analysis_tools/benchmark_cams.py configs/classifier/resnet18-w32_1xb16-25e_synthetic-128x128.py \
        --methods gradcam racam layercam --batch-sizes 1 16 [--checkpoint CKPT] [--device cuda]

Inputs are random (seeded) at the config's test scale, one class per image (``--classes C``: C classes spread
over the batch); weights are random unless --checkpoint is given
(speed does not depend on them). Each measurement is the median of --repeats runs after a warm-up; methods
are interleaved round by round so machine noise hits all of them alike. Peak memory is reported on CUDA.
"""
import argparse
import json
import statistics
import time

import torch
from mmengine.registry import DefaultScope

import mmwsss  # noqa: F401
from mmwsss.apis import prepare_config
from mmwsss.apis.cam_inferencer import CAMInferencer, cam_settings
from mmwsss.cam.base_cam import class_slots
from mmwsss.utils import add_debug_flag, cfg_options_action, cli_main


def parse_args():
    parser = argparse.ArgumentParser(description='Benchmark CAM methods')
    parser.add_argument('config')
    parser.add_argument('--checkpoint')
    parser.add_argument('--methods', nargs='+', default=['gradcam', 'layercam', 'racam'])
    parser.add_argument('--batch-sizes', type=int, nargs='+', default=[1, 16])
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--classes', type=int, default=1,
                        help='distinct classes per batch: image n asks for class n %% CLASSES (one class per image; '
                        '1 = every image the same class, as pytorch-grad-cam computes one target per call)')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--no-anchors', action='store_true', help='skip pytorch-grad-cam anchors')
    parser.add_argument('--out', help='write the measurements as JSON here')
    parser.add_argument('--cfg-options', nargs='+', action=cfg_options_action())
    add_debug_flag(parser)
    return parser.parse_args()


def build_model(cfg, checkpoint, device):
    from mmpretrain.registry import MODELS
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    if checkpoint:
        from mmengine.runner import load_checkpoint
        load_checkpoint(model, checkpoint, map_location='cpu')
    return model.to(device).eval()


def _no_target(output):
    """pytorch-grad-cam target of an image without a class in this slot: zero score."""
    return output.sum() * 0


class _Logits(torch.nn.Module):

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(x, mode='tensor')


def make_runners(args, cfg, model, num_classes):
    runners = {}
    for name in args.methods:
        runners[name] = CAMInferencer(model, cfg, name).maps
    if not args.no_anchors:
        import pytorch_grad_cam
        from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
        wrapped = _Logits(model)
        # the layer our Grad-CAM uses for this classifier (its config / FGBPCAMHead settings), any backbone
        target = model.get_submodule(cam_settings(cfg, 'gradcam')[1][-1])
        for ref in ('GradCAM', 'LayerCAM'):

            def run(x, m, ref=ref):
                # built per call and released on exit: a pytorch-grad-cam object keeps forward hooks on the target
                # layer that copy every activation and gradient to the host, and they slowed the methods timed
                # after it in the same round by up to 1.8x (docs/results.md, session (k)).
                # It computes one target class per image per call: one call per class slot.
                with getattr(pytorch_grad_cam, ref)(model=wrapped, target_layers=[target]) as ref_cam:
                    for select in class_slots(m):
                        ref_cam(input_tensor=x, targets=[ClassifierOutputTarget(int(row.long().argmax()))
                                                         if row.any() else _no_target for row in select])

            runners[f'pytorch-grad-cam {ref}'] = run
    return runners


def main():
    args = parse_args()
    if args.classes < 1:
        raise ValueError(f'--classes must be >= 1 (distinct classes spread over the batch), got {args.classes}')
    cfg = prepare_config(args.config, cfg_options=args.cfg_options)
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmpretrain')):
        model = build_model(cfg, args.checkpoint, args.device)
        num_classes = cfg.model.head.num_classes
        scale = next(t['scale'] for t in cfg.cam_dataloader.dataset.pipeline if t['type'] == 'Resize')
        runners = make_runners(args, cfg, model, num_classes)
        results = {}
        for bs in args.batch_sizes:
            g = torch.Generator().manual_seed(bs)
            x = torch.randn(bs, 3, scale[1], scale[0], generator=g).to(args.device)
            # one class per image (the common case); --classes C spreads C classes over the batch (a batch of
            # single-label images of several defect types: one backward pass per class slot, not per class)
            mask = torch.zeros(bs, num_classes, dtype=torch.bool, device=args.device)
            mask[torch.arange(bs), torch.arange(bs) % min(args.classes, num_classes)] = True
            times = {name: [] for name in runners}
            peaks = {name: [] for name in runners}
            for name, fn in runners.items():  # warm-up
                fn(x, mask)
            for _ in range(args.repeats):
                for name, fn in runners.items():
                    if args.device.startswith('cuda'):
                        torch.cuda.synchronize()
                        torch.cuda.reset_peak_memory_stats()
                    start = time.perf_counter()
                    fn(x, mask)
                    if args.device.startswith('cuda'):
                        torch.cuda.synchronize()
                        peaks[name].append(torch.cuda.max_memory_allocated() / 2**20)
                    times[name].append(time.perf_counter() - start)
            for name, ts in times.items():
                med = statistics.median(ts)
                peak = max(peaks[name]) if peaks[name] else None
                results.setdefault(name, {})[bs] = dict(seconds=med, images_per_s=bs / med, peak_mib=peak)
    print_table(results, args)
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(results, f, indent=2)


def print_table(results, args):
    bss = args.batch_sizes
    print('| method | ' + ' | '.join(f'img/s @bs{b}' for b in bss) + ' |')
    print('|---|' + '---|' * len(bss))
    for name, r in results.items():
        print(f'| {name} | ' + ' | '.join(f"{r[b]['images_per_s']:.1f}" for b in bss) + ' |')
    if 'gradcam' in results and 'pytorch-grad-cam GradCAM' in results:
        for b in bss:
            ratio = results['gradcam'][b]['images_per_s'] / results['pytorch-grad-cam GradCAM'][b]['images_per_s']
            print(f'ours gradcam vs pytorch-grad-cam GradCAM @bs{b}: {ratio:.2f}x faster')
    if 'gradcam' in results:
        for name in results:
            if name in args.methods and name != 'gradcam':
                for b in bss:
                    ratio = results[name][b]['seconds'] / results['gradcam'][b]['seconds']
                    print(f'{name} time / gradcam time @bs{b}: {ratio:.2f}')


if __name__ == '__main__':
    cli_main(main)
