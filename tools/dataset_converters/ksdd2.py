"""Convert KolektorSDD2 into the mmwsss layout.

Source: {train,test}/NNNNN.png + NNNNN_GT.png; one class (defect), empty mask = defect-free. Cite Bozic, Tabernik and Skocaj, Computers in Industry 2021.
Split: the source's training part -> train + val (--val-fraction, seeded, stratified by defective / defect-free),
its test part -> test. Resumable (finished files are verified and kept); never modifies the source.

Example::

    python tools/dataset_converters/ksdd2.py /datasets/KolektorSDD2 data/ksdd2
"""
import argparse

from mmwsss.datasets.ksdd2_converter import convert_ksdd2
from mmwsss.datasets.layout import DatasetLayoutError


def parse_args():
    parser = argparse.ArgumentParser(description='Convert KolektorSDD2 to the mmwsss layout')
    parser.add_argument('src', help='KolektorSDD2 root')
    parser.add_argument('out_dir', help='output data root')
    parser.add_argument('--val-fraction', type=float, default=0.1, help='share of the training part used for val')
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args()


def main():
    args = parse_args()
    try:
        report = convert_ksdd2(args.src, args.out_dir, val_fraction=args.val_fraction, seed=args.seed, progress=True)
    except DatasetLayoutError as err:
        raise SystemExit(f'error: {err}')
    for split, c in report['counts'].items():
        print(f"{split:5s} {c['defect_free']:6d} defect-free {c['defective']:6d} defective")
    print(f"written {report['written']}, reused {report['reused']}, normalized {len(report['normalized'])}")


if __name__ == '__main__':
    main()
