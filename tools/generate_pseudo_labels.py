"""Stage 2 alone: write CAM pseudo-labels (0 background, k class k, 255 ignore) for the training split.

    python tools/generate_pseudo_labels.py CLS_CONFIG CHECKPOINT --out-dir work_dirs/pl [--method gradcam]
        [--bg-thr 0.3] [--fg-thr 0.5]

Refuses to write into the dataset's folders, writes each file atomically and resumes (existing readable
files are kept; --no-resume rewrites them). A manifest.json records config, checkpoint, method, thresholds.
"""
import argparse

from mmengine.config import DictAction

import mmwsss  # noqa: F401
from mmwsss.apis import prepare_config
from mmwsss.apis.pseudo_label_generation import generate_pseudo_labels
from mmwsss.registry import CAM_METHODS


def parse_args():
    parser = argparse.ArgumentParser(description='Generate CAM pseudo-labels')
    parser.add_argument('config', help='classifier config (with cam_dataloader)')
    parser.add_argument('checkpoint', help='classifier checkpoint (a pickle: trusted files only)')
    parser.add_argument('--out-dir', required=True, help='pseudo-label folder')
    parser.add_argument('--method', choices=sorted(CAM_METHODS.module_dict), help='CAM method (config: cam.method)')
    parser.add_argument('--bg-thr', type=float, help='below: background (config: cam.bg_thr)')
    parser.add_argument('--fg-thr', type=float, help='at or above: defect; between: 255 ignore (config: cam.fg_thr)')
    parser.add_argument('--batch-size', type=int)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--data-root', help='override every data_root in the config')
    parser.add_argument('--no-resume', action='store_true', help='rewrite existing files')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args()


def main():
    args = parse_args()
    cfg = prepare_config(args.config, cfg_options=args.cfg_options, data_root=args.data_root)
    manifest = generate_pseudo_labels(cfg, args.checkpoint, args.out_dir, method=args.method, bg_thr=args.bg_thr,
                                      fg_thr=args.fg_thr, batch_size=args.batch_size, device=args.device,
                                      resume=not args.no_resume)
    print(f"wrote {manifest['written']} of {manifest['images']} pseudo-labels to {args.out_dir}")


if __name__ == '__main__':
    main()
