"""Stage 2 alone: write CAM pseudo-labels (0 background, k class k, 255 ignore) for the training split.

    python tools/generate_pseudo_labels.py CLS_CONFIG CHECKPOINT --out-dir work_dirs/pl [--method gradcam]
        [--bg-thr 0.3] [--fg-thr 0.5] [--skip-bad]
    bash tools/dist_generate_pseudo_labels.sh CLS_CONFIG CHECKPOINT 8 --out-dir work_dirs/pl   # 8 processes

Refuses to write into the dataset's folders, writes each file atomically and resumes (finished files are
verified and kept; --no-resume rewrites them; a folder made with other settings is refused). Next to the
PNGs: manifest.json (config, checkpoint + sha256, method, thresholds, layers, skipped files) and
confidence.csv (per-image confidence; tools/analysis_tools/review_pseudo_labels.py shows the doubtful ones).
"""
import argparse
import os

from mmengine.dist import init_dist

import mmwsss  # noqa: F401
from mmwsss.apis import prepare_config
from mmwsss.apis.pseudo_label_generation import generate_pseudo_labels
from mmwsss.registry import CAM_METHODS
from mmwsss.utils import add_debug_flag, cfg_options_action, cli_main


def parse_args():
    parser = argparse.ArgumentParser(description='Generate CAM pseudo-labels')
    parser.add_argument('config', help='classifier config (with cam_dataloader)')
    parser.add_argument('checkpoint', help='classifier checkpoint (a pickle: trusted files only)')
    parser.add_argument('--out-dir', required=True, help='pseudo-label folder')
    parser.add_argument('--method', choices=sorted(CAM_METHODS.module_dict), help='CAM method (config: cam.method)')
    parser.add_argument('--bg-thr', type=float, help='below: background (config: cam.bg_thr)')
    parser.add_argument('--fg-thr', type=float, help='at or above: defect; between: 255 ignore (config: cam.fg_thr)')
    parser.add_argument('--batch-size', type=int)
    parser.add_argument('--device', default=None,
                        help='torch device (default: cuda:<local rank> if available, else cpu)')
    parser.add_argument('--data-root', help='override every data_root in the config')
    parser.add_argument('--no-resume', action='store_true', help='rewrite existing files')
    parser.add_argument('--skip-bad', action='store_true',
                        help='leave images that cannot be loaded out (listed in manifest.json) instead of stopping')
    parser.add_argument('--cfg-options', nargs='+', action=cfg_options_action())
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none',
                        help='job launcher (pytorch: torchrun, see tools/dist_generate_pseudo_labels.sh)')
    add_debug_flag(parser)
    return parser.parse_args()


def main():
    args = parse_args()
    import torch
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    if args.launcher == 'pytorch' and not device.startswith('cuda'):
        # mmengine's init_dist selects a CUDA device per rank; CPU ranks talk over gloo (env:// from torchrun)
        torch.distributed.init_process_group(backend='gloo')
    elif args.launcher != 'none':
        init_dist(args.launcher, backend='nccl')
        if device == 'cuda':
            device = f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}"
    cfg = prepare_config(args.config, cfg_options=args.cfg_options, data_root=args.data_root)
    manifest = generate_pseudo_labels(cfg, args.checkpoint, args.out_dir, method=args.method, bg_thr=args.bg_thr,
                                      fg_thr=args.fg_thr, batch_size=args.batch_size, device=device,
                                      resume=not args.no_resume, skip_bad=args.skip_bad)
    from mmengine.dist import get_dist_info
    if get_dist_info()[0] == 0:
        print(f"wrote {manifest['written']} of {manifest['images']} pseudo-labels to {args.out_dir}"
              f" ({len(manifest['skipped'])} skipped)")


if __name__ == '__main__':
    cli_main(main)
