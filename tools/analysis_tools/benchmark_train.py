"""Train throughput of a classifier and a segmenter config: fp32 vs bf16 autocast vs channels_last, one run.

    python tools/analysis_tools/benchmark_train.py [--cls-config C] [--seg-config S] [--steps 6] [--warmup 2]

Each model is built from its config (random init, no checkpoint), one batch of random data at the config's
batch size and crop size, and timed for ``--steps`` optimizer steps (forward + loss + backward + AdamW) per
mode after ``--warmup`` steps; the table gives the median images/s and each mode's ratio to fp32, all measured
in this one run (absolute times on shared machines are noisy; the ratios are the result). bf16 is what
``--amp`` uses on a CPU (:class:`mmwsss.engine.CPUAmpOptimWrapper`).
"""
import argparse
import os.path as osp
import time

import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmwsss.apis.config_generation import TEMPLATES
from mmwsss.utils import add_debug_flag, cli_main

CLS_CONFIG = 'configs/classifier/efficientnet-lite0-d16_in1k-pre_1xb16-12e_mtd-256x256.py'
# the weak segmenter of the default MTD pipeline, which the folder converter's generated configs use
SEG_CONFIG = osp.join('configs', TEMPLATES['lite0']['segmenter'])
MODES = (('fp32', False, False), ('bf16', True, False), ('channels_last', False, True),
         ('channels_last + bf16', True, True))


def parse_args():
    parser = argparse.ArgumentParser(description='Train images/s in fp32 / bf16 / channels_last')
    parser.add_argument('--cls-config', default=CLS_CONFIG)
    parser.add_argument('--seg-config', default=SEG_CONFIG)
    parser.add_argument('--steps', type=int, default=6, help='timed steps per mode')
    parser.add_argument('--warmup', type=int, default=2)
    add_debug_flag(parser)
    return parser.parse_args()


def build(config: str, scope: str):
    cfg = Config.fromfile(config)
    cfg.model.backbone.pop('init_cfg', None)
    with DefaultScope.overwrite_default_scope(scope):
        if scope == 'mmseg':
            from mmseg.registry import MODELS
        else:
            from mmpretrain.registry import MODELS
        model = MODELS.build(cfg.model)
    batch = cfg.train_dataloader.batch_size
    crop = cfg.get('crop_size', (256, 256))
    return model.train(), batch, tuple(crop)


def seg_loss(model, x, y):
    losses = model.decode_head.loss_by_feat(model.decode_head(model.extract_feat(x)), y)
    return sum(v for k, v in losses.items() if k.startswith('loss'))


def cls_loss(model, x, y):
    return torch.nn.functional.binary_cross_entropy_with_logits(model(x).float(), y)


def time_steps(model, x, y, loss_fn, bf16: bool, steps: int, warmup: int) -> float:
    opt = torch.optim.AdamW(model.parameters(), lr=1e-5)
    times = []
    for i in range(warmup + steps):
        start = time.perf_counter()
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=bf16):
            loss = loss_fn(model, x, y)
        loss.float().backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        if i >= warmup:
            times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def seg_targets(model, batch, crop):
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    samples = []
    for _ in range(batch):
        s = SegDataSample()
        s.gt_sem_seg = PixelData(data=torch.randint(0, model.decode_head.num_classes, (1, ) + crop))
        s.set_metainfo(dict(img_shape=crop, pad_shape=crop))
        samples.append(s)
    return samples


def main():
    args = parse_args()
    torch.manual_seed(0)
    rows = []
    for name, config, scope in (('classifier', args.cls_config, 'mmpretrain'), ('segmenter', args.seg_config, 'mmseg')):
        model, batch, crop = build(config, scope)
        x = torch.randn(batch, 3, *crop)
        if scope == 'mmseg':
            y, loss_fn = seg_targets(model, batch, crop), seg_loss
        else:
            y, loss_fn = torch.randint(0, 2, (batch, model.head.num_classes)).float(), cls_loss
        base = None
        for mode, bf16, channels_last in MODES:
            fmt = torch.channels_last if channels_last else torch.contiguous_format
            model = model.to(memory_format=fmt)
            seconds = time_steps(model, x.contiguous(memory_format=fmt), y, loss_fn, bf16, args.steps, args.warmup)
            base = base or seconds
            rows.append((name, mode, batch, batch / seconds, base / seconds))
    print('| model | mode | batch | train images/s | vs fp32 |\n|---|---|---|---|---|')
    for name, mode, batch, ips, ratio in rows:
        print(f'| {name} | {mode} | {batch} | {ips:.2f} | {ratio:.2f}x |')


if __name__ == '__main__':
    cli_main(main)
