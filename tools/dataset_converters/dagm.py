"""Convert DAGM 2007 into the mmwsss layout.

Source: Class<N>/{Train,Test}/*.PNG + Label/Labels.txt + Label/*_label.PNG (weak ellipses); class N = ClassN's defect. Cite Wieler and Hahn, DAGM 2007 competition.
Split: the source's training part -> train + val (--val-fraction, seeded, stratified by defective / defect-free),
its test part -> test. Resumable (finished files are verified and kept); never modifies the source.

Example::

    python tools/dataset_converters/dagm.py /datasets/DAGM data/dagm
"""
import argparse

from mmwsss.datasets.dagm_converter import convert_dagm
from mmwsss.datasets.layout import DatasetLayoutError


def parse_args():
    parser = argparse.ArgumentParser(description='Convert DAGM 2007 to the mmwsss layout')
    parser.add_argument('src', help='DAGM 2007 root')
    parser.add_argument('out_dir', help='output data root')
    parser.add_argument('--val-fraction', type=float, default=0.1, help='share of the training part used for val')
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args()


def main():
    args = parse_args()
    try:
        report = convert_dagm(args.src, args.out_dir, val_fraction=args.val_fraction, seed=args.seed, progress=True)
    except DatasetLayoutError as err:
        raise SystemExit(f'error: {err}')
    for split, c in report['counts'].items():
        print(f"{split:5s} {c['defect_free']:6d} defect-free {c['defective']:6d} defective")
    print(f"written {report['written']}, reused {report['reused']}, normalized {len(report['normalized'])}")


if __name__ == '__main__':
    main()
