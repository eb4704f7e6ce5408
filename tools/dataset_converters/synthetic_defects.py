"""Generate the embedded synthetic defect dataset in the mmwsss layout.

Example::

    python tools/dataset_converters/synthetic_defects.py data/synthetic_defects
    python tools/dataset_converters/synthetic_defects.py data/synth_big --size 192 --num-train 1000
"""
import argparse
import json
import os.path as osp
import time

from mmwsss.datasets.synthetic_defects import SyntheticSpec, write_synthetic_dataset
from mmwsss.utils import add_debug_flag, cli_main


def parse_args():
    parser = argparse.ArgumentParser(description='Generate synthetic industrial-surface defect images')
    parser.add_argument('out_dir', help='output data root (img_dir/, ann_dir/, image_labels/)')
    defaults = SyntheticSpec()
    parser.add_argument('--size', type=int, default=defaults.size, help='image side in pixels')
    parser.add_argument('--num-train', type=int, default=defaults.num_train)
    parser.add_argument('--num-val', type=int, default=defaults.num_val)
    parser.add_argument('--num-test', type=int, default=defaults.num_test)
    parser.add_argument('--defect-free-ratio', type=float, default=defaults.defect_free_ratio)
    parser.add_argument('--two-defect-ratio', type=float, default=defaults.two_defect_ratio)
    parser.add_argument('--seed', type=int, default=defaults.seed)
    add_debug_flag(parser)
    return parser.parse_args()


def main():
    args = parse_args()
    spec = SyntheticSpec(size=args.size, num_train=args.num_train, num_val=args.num_val,
                         num_test=args.num_test, defect_free_ratio=args.defect_free_ratio,
                         two_defect_ratio=args.two_defect_ratio, seed=args.seed)
    start = time.time()
    counts = write_synthetic_dataset(args.out_dir, spec, progress=True)
    with open(osp.join(args.out_dir, 'spec.json'), 'w') as f:
        json.dump(spec.__dict__, f, indent=2)
    print(f'wrote {counts} to {args.out_dir} in {time.time() - start:.1f}s')


if __name__ == '__main__':
    cli_main(main)
