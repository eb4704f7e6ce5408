"""Train a classifier (mmpretrain) or segmenter (mmseg) config, with mmseg's argument surface.

    python tools/train.py configs/classifier/resnet18_1xb16-20e_synthetic-128x128.py
    bash tools/dist_train.sh CONFIG 4 --work-dir work_dirs/x
"""
import argparse
import os

from mmwsss.apis import build_runner, prepare_config
from mmwsss.utils import add_debug_flag, cfg_options_action, cli_main


def parse_args():
    parser = argparse.ArgumentParser(description='Train an mmwsss classifier or segmenter')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument('--resume', action='store_true', default=False,
                        help='resume from the latest checkpoint in the work_dir automatically')
    parser.add_argument('--amp', action='store_true', default=False,
                        help='enable automatic-mixed-precision training')
    parser.add_argument('--channels-last', action='store_true', default=False,
                        help='train in the channels_last memory format (NHWC; pays for some models only: '
                        'tools/analysis_tools/benchmark_train.py)')
    parser.add_argument('--data-root', help='override every data_root in the config')
    parser.add_argument('--cfg-options', nargs='+', action=cfg_options_action(),
                        help='override settings in the config, key=value (mmengine DictAction)')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none',
                        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    add_debug_flag(parser)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def main():
    args = parse_args()
    cfg = prepare_config(args.config, work_dir=args.work_dir, cfg_options=args.cfg_options, amp=args.amp,
                         resume=args.resume, launcher=args.launcher, data_root=args.data_root,
                         channels_last=args.channels_last)
    build_runner(cfg).train()


if __name__ == '__main__':
    cli_main(main)
