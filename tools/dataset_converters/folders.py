"""Your own OK / NG data: a folder-per-class tree -> the mmwsss layout + ready-to-run configs.

    ROOT/good/*.png  ROOT/scratch/*.png  ROOT/dent/*.png   (class names = folder names)

Example::

    python tools/dataset_converters/folders.py /data/line3 --ok good --out data/line3 \
        [--masks /data/line3_masks --mask-thr 128] [--template lite0]
    python tools/run_pipeline.py data/line3/configs/wsss_line3.py --work-dir work_dirs/line3

The source tree is only read. Re-running with the same options resumes (finished files are verified and
kept); other options into the same --out are refused. See mmwsss/datasets/folder_converter.py for the
split rule, masks, 16-bit / RGBA handling and --multi-label.
"""
import argparse
import os.path as osp

from mmwsss.apis.config_generation import TEMPLATES, write_dataset_configs
from mmwsss.datasets.folder_converter import convert_folders
from mmwsss.utils import add_debug_flag, cli_main


def parse_args():
    parser = argparse.ArgumentParser(description='Convert a folder-per-class OK/NG tree to the mmwsss layout')
    parser.add_argument('root', help='source tree: one folder per class')
    parser.add_argument('--ok', nargs='+', default=['OK'], help='defect-free folder name(s) (default OK)')
    parser.add_argument('--out', required=True, help='output data root')
    parser.add_argument('--classes', nargs='+', help='defect folders in class-id order (default: sorted)')
    parser.add_argument('--ignore', nargs='+', default=[], help='folders of ROOT to leave out')
    parser.add_argument('--masks', help='optional mask tree MASKS/<folder>/<stem>.<ext> (evaluation only)')
    parser.add_argument('--mask-thr', type=int, help='binarize non-binary masks at >= this value (e.g. 128)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--ratios', type=float, nargs=3, default=(0.7, 0.1, 0.2), metavar=('TRAIN', 'VAL', 'TEST'))
    parser.add_argument('--multi-label', action='store_true',
                        help='an identical file in several defect folders is one image with several types')
    parser.add_argument('--skip-bad', action='store_true',
                        help='leave unreadable / empty images out (listed in conversion.json) instead of failing')
    parser.add_argument('--no-resume', action='store_true', help='rewrite finished files')
    parser.add_argument('--name', help='data set name for the configs (default: the --out folder name)')
    parser.add_argument('--template', default='lite0', choices=sorted(TEMPLATES),
                        help='lite0: ImageNet EfficientNet-Lite0 + RA-CAM (default); r18: scratch ResNet-18 + Grad-CAM')
    parser.add_argument('--config-dir', help='where to write the configs (default OUT/configs)')
    add_debug_flag(parser)
    return parser.parse_args()


def main():
    args = parse_args()
    report = convert_folders(
        args.root, args.out, ok=args.ok, classes=args.classes, ignore=args.ignore, mask_root=args.masks,
        mask_thr=args.mask_thr, seed=args.seed, ratios=args.ratios, multi_label=args.multi_label,
        skip_bad=args.skip_bad, resume=not args.no_resume, progress=True)
    name = args.name or osp.basename(osp.normpath(args.out))
    kept = []
    paths = write_dataset_configs(args.out, args.config_dir or osp.join(args.out, 'configs'), name, args.template,
                                  kept=kept)
    print(f"classes: {', '.join(report['classes'][1:])} (defect-free: {', '.join(args.ok)})")
    for split, c in report['counts'].items():
        print(f"{split:5s} {c['defect_free']:6d} defect-free {c['defective']:6d} defective  "
              f"{c['with_masks']:6d} with masks")
    print(f"written {report['written']}, reused {report['reused']}, normalized {len(report['normalized'])}, "
          f"skipped {len(report['skipped'])} (see {osp.join(args.out, 'conversion.json')})")
    if report['kept_splits']:
        print(f"{report['kept_splits']} images kept the split of the earlier conversion; "
              f"{len(report['removed'])} outputs of images gone from the source removed")
    if report.get('unmatched_folders'):
        print(f"warning: mask folder(s) {report['unmatched_folders']} match no class folder: their masks are unused")
    if report.get('unmatched_masks'):
        print(f"warning: {len(report['unmatched_masks'])} mask file(s) match no image (listed in conversion.json)")
    for path in kept:
        print(f'kept {path}: it differs from what the converter writes now (your edits or an earlier version; '
              'delete it to regenerate)')
    if not any(report['masks'].values()):
        print('no masks: the pipeline trains and reports without them (IoU is "not measured")')
    print(f"next: python tools/run_pipeline.py {paths['pipeline']} --work-dir work_dirs/{name}")


if __name__ == '__main__':
    cli_main(main)
