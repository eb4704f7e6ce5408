"""Test a classifier or segmenter checkpoint on its config's test split (mmseg's argument surface).

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--show-dir DIR] [--tta [--tta-scales 1.0 1.25]]
        [--classifier CLS_CONFIG CLS_CHECKPOINT --class-gate [--gate-recall 0.95]]
"""
import argparse
import os

from mmwsss.apis import build_runner, prepare_config, test_only_config, tta_config
from mmwsss.utils import (add_class_gate_flags, add_debug_flag, add_tta_flags, cfg_options_action, class_gate, cli_main,
                          tta_scales)


def parse_args():
    parser = argparse.ArgumentParser(description='Test an mmwsss classifier or segmenter')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file (a pickle: load trusted files only)')
    parser.add_argument('--work-dir', help='the dir to save logs and metrics')
    parser.add_argument('--show-dir', help='segmenter: dir to save painted predictions')
    add_tta_flags(parser)
    add_class_gate_flags(parser)
    parser.add_argument('--data-root', help='override every data_root in the config')
    parser.add_argument('--cfg-options', nargs='+', action=cfg_options_action(), help='override config settings')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    add_debug_flag(parser)
    args = parser.parse_args()
    args.tta_scales = tta_scales(args, parser)
    args.gate = class_gate(args, parser)
    if args.classifier and not args.class_gate:
        parser.error('--classifier is read by --class-gate (tools/predict.py scores images with it)')
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def main():
    args = parse_args()
    cfg = prepare_config(args.config, work_dir=args.work_dir, cfg_options=args.cfg_options,
                         launcher=args.launcher, data_root=args.data_root)
    cfg = test_only_config(cfg, args.checkpoint)
    if args.tta_scales is not None or args.gate is not None:
        cfg = tta_config(cfg, args.tta_scales, gate=args.gate)
    if args.show_dir:
        hook = cfg.default_hooks.get('visualization')
        if hook is None or hook.get('type') != 'SegVisualizationHook':
            raise ValueError('--show-dir works with segmenter configs (SegVisualizationHook)')
        hook.update(draw=True, interval=1)
        cfg.visualizer.save_dir = args.show_dir
    build_runner(cfg).test()


if __name__ == '__main__':
    cli_main(main)
