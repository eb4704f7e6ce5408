"""Convert NEU-Seg into the mmwsss layout.

Source: images/{training,test}/*.jpg + annotations/{training,test}/*.png (0 bg, 1 inclusion, 2 patches, 3 scratches); image labels from the masks, several per image; no defect-free images. Cite Dong, Song and Yan (NEU-Seg) when reporting.
Split: the source's training part -> train + val (--val-fraction, seeded, stratified by defective / defect-free),
its test part -> test. Resumable (finished files are verified and kept); never modifies the source.

Example::

    python tools/dataset_converters/neu_seg.py /datasets/NEU_Seg data/neu_seg
"""
import argparse

from mmwsss.datasets.neu_seg_converter import convert_neu_seg
from mmwsss.datasets.layout import DatasetLayoutError


def parse_args():
    parser = argparse.ArgumentParser(description='Convert NEU-Seg to the mmwsss layout')
    parser.add_argument('src', help='NEU-Seg root')
    parser.add_argument('out_dir', help='output data root')
    parser.add_argument('--val-fraction', type=float, default=0.1, help='share of the training part used for val')
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args()


def main():
    args = parse_args()
    try:
        report = convert_neu_seg(args.src, args.out_dir, val_fraction=args.val_fraction, seed=args.seed, progress=True)
    except DatasetLayoutError as err:
        raise SystemExit(f'error: {err}')
    for split, c in report['counts'].items():
        print(f"{split:5s} {c['defect_free']:6d} defect-free {c['defective']:6d} defective")
    print(f"written {report['written']}, reused {report['reused']}, normalized {len(report['normalized'])}")


if __name__ == '__main__':
    main()
