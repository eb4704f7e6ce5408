"""Review pseudo-labels, the doubtful ones first: a review queue (CSV), full-resolution overlays and per-class
galleries of the least / most confident images.

    python tools/analysis_tools/review_pseudo_labels.py work_dirs/mtd_folders/pseudo_labels \
        --out work_dirs/mtd_folders/review [--num 8] [--data-info data/mtd_folders/dataset_info.json] \
        [--gt-dir data/mtd_folders/ann_dir/train]
"""
import argparse
import json

from mmwsss.utils import add_debug_flag, cli_main
from mmwsss.visualization import write_review


def parse_args():
    parser = argparse.ArgumentParser(description='Pseudo-label review queue and galleries')
    parser.add_argument('label_dir', help='pseudo-label folder with confidence.csv')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--num', type=int, default=8, help='images per gallery')
    parser.add_argument('--row-height', type=int, default=160)
    parser.add_argument('--data-info', help='dataset_info.json of the converted data (classes and palette)')
    parser.add_argument('--gt-dir', help='GT masks of the same images (e.g. DATA_ROOT/ann_dir/train): reports how '
                        'well the confidence ranks the pseudo-labels (monitoring only)')
    add_debug_flag(parser)
    return parser.parse_args()


def main():
    args = parse_args()
    palette = class_names = None
    if args.data_info:
        with open(args.data_info) as f:
            info = json.load(f)
        palette, class_names = info['palette'], info['classes']
    out = write_review(args.label_dir, args.out, num=args.num, row_height=args.row_height, palette=palette,
                       class_names=class_names, gt_dir=args.gt_dir)
    print(f"{out['defective_images']} defective images, review queue: {out['review_order']}")
    for name, conf in out['mean_confidence'].items():
        print(f"{name:16s} mean confidence {conf:.3f}  {out['galleries'][name]['worst']}")
    if 'check' in out:
        c = out['check']
        print(f"confidence vs pseudo-label IoU over {c['images']} images: Spearman {c['spearman']:.3f}; mean IoU "
              f"{c['iou_least_confident_fifth']:.3f} (least confident fifth) / {c['iou_most_confident_fifth']:.3f} "
              f"(most confident fifth) / {c['mean_iou']:.3f} (all)")


if __name__ == '__main__':
    cli_main(main)
