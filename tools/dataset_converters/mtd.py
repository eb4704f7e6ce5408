"""Convert the Magnetic Tile Defect (MTD) data set into the mmwsss layout.

Masks are binarized at >= 128 and labelled by defect type (blowhole 1, break 2, crack 3, fray 4,
uneven 5); MT_Free images are defect-free. Split: stratified by folder, seeded shuffle (default seed 0),
train/val/test = 0.7/0.1/0.2. Cite Huang, Qiu and Yuan, The Visual Computer 2020 when reporting on MTD.

Example::

    python tools/dataset_converters/mtd.py ../shared/datasets/MTD data/mtd
"""
import argparse
import json
import os.path as osp

from mmwsss.datasets.mtd_converter import convert_mtd
from mmwsss.utils import add_debug_flag, cli_main


def parse_args():
    parser = argparse.ArgumentParser(description='Convert MTD to the mmwsss layout')
    parser.add_argument('src', help='MTD root (holds MT_<Type>/Imgs/)')
    parser.add_argument('out_dir', help='output data root')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--ratios', type=float, nargs=3, default=(0.7, 0.1, 0.2),
                        metavar=('TRAIN', 'VAL', 'TEST'))
    add_debug_flag(parser)
    return parser.parse_args()


def main():
    args = parse_args()
    stats = convert_mtd(args.src, args.out_dir, seed=args.seed, ratios=args.ratios, progress=True)
    with open(osp.join(args.out_dir, 'split.json'), 'w') as f:
        json.dump(dict(seed=args.seed, ratios=list(args.ratios), counts=stats), f, indent=2)
    for split, counts in stats.items():
        print(f'{split:5s} {sum(counts.values()):5d} images  {counts}')


if __name__ == '__main__':
    cli_main(main)
