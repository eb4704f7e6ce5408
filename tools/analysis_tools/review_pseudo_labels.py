"""Review pseudo-labels, the doubtful ones first: a review queue (CSV), full-resolution overlays and per-class
galleries of the least / most confident images.

    python tools/analysis_tools/review_pseudo_labels.py work_dirs/mtd_folders/pseudo_labels \
        --out work_dirs/mtd_folders/review [--num 8] [--data-info data/mtd_folders/dataset_info.json]
"""
import argparse
import json

from mmwsss.visualization import write_review


def parse_args():
    parser = argparse.ArgumentParser(description='Pseudo-label review queue and galleries')
    parser.add_argument('label_dir', help='pseudo-label folder with confidence.csv')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--num', type=int, default=8, help='images per gallery')
    parser.add_argument('--row-height', type=int, default=160)
    parser.add_argument('--data-info', help='dataset_info.json of the converted data (classes and palette)')
    return parser.parse_args()


def main():
    args = parse_args()
    palette = class_names = None
    if args.data_info:
        with open(args.data_info) as f:
            info = json.load(f)
        palette, class_names = info['palette'], info['classes']
    out = write_review(args.label_dir, args.out, num=args.num, row_height=args.row_height, palette=palette,
                       class_names=class_names)
    print(f"{out['defective_images']} defective images, review queue: {out['review_order']}")
    for name, conf in out['mean_confidence'].items():
        print(f"{name:16s} mean confidence {conf:.3f}  {out['galleries'][name]['worst']}")


if __name__ == '__main__':
    main()
