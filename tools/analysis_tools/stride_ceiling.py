"""How much IoU a decoder at output stride s can keep of a data set's masks (an oracle that knows each s x s cell's
class fractions, upsampled bilinearly; mmwsss.evaluation.stride_ceiling). Helps choose a decoder and a scale before
training: a class whose ceiling at the decoder's stride is low cannot be drawn however well the model learns.
Strides are in mask pixels: a config that resizes its test images (e.g. to 256 x 256) predicts at its stride times
that scale.

    python tools/analysis_tools/stride_ceiling.py SEG_CONFIG [--split test] [--strides 2 4 8 16] [--out ceiling.json]
"""
import argparse
import json

import torch
from mmengine.registry import DefaultScope
from mmseg.registry import DATASETS
from tqdm import tqdm

import mmwsss  # noqa: F401
from mmwsss.apis import prepare_config
from mmwsss.datasets.layout import DatasetLayoutError, read_image
from mmwsss.evaluation import iou_from_confusion, stride_ceiling
from mmwsss.evaluation.segmentation_scores import summarize_iou
from mmwsss.utils import add_debug_flag, atomic_write_text, cfg_options_action, cli_main


def parse_args():
    parser = argparse.ArgumentParser(description='IoU ceiling of each output stride on a split of a segmenter '
                                     "config's data")
    parser.add_argument('config', help='segmenter config (its val / test dataset is read)')
    parser.add_argument('--split', choices=['val', 'test'], default='test')
    parser.add_argument('--strides', type=int, nargs='+', default=[2, 4, 8, 16], help='output strides, in mask pixels')
    parser.add_argument('--out', help='write the table as JSON here')
    parser.add_argument('--data-root', help='override every data_root in the config')
    parser.add_argument('--cfg-options', nargs='+', action=cfg_options_action(), help='override config settings')
    add_debug_flag(parser)
    args = parser.parse_args()
    if min(args.strides) < 1:
        parser.error(f'--strides must be >= 1, got {args.strides}')
    return args


def main():
    args = parse_args()
    cfg = prepare_config(args.config, cfg_options=args.cfg_options, data_root=args.data_root)
    with DefaultScope.overwrite_default_scope('mmseg'):
        dataset = DATASETS.build(cfg[f'{args.split}_dataloader'].dataset)
    classes = list(dataset.metainfo['classes'])
    paths = [dataset.get_data_info(i).get('seg_map_path') for i in range(len(dataset))]
    if not paths or None in paths:
        raise DatasetLayoutError(f'the {args.split} split of {args.config} has no masks to measure (ann_dir); '
                                 'pick a split with masks (--split) or a data root that has them (--data-root)')
    masks = [torch.from_numpy(read_image(p).astype('int64')) for p in tqdm(paths, desc=f'{args.split} masks')]
    confusion = stride_ceiling(masks, args.strides, len(classes))
    table = {str(s): summarize_iou(iou_from_confusion(cm), classes) for s, cm in zip(args.strides, confusion)}
    print(f"{'stride':>6} {'mIoU':>6} {'defect':>6}  " + ' '.join(f'{c[:9]:>9}' for c in classes[1:]))
    for s, row in table.items():
        print(f"{s:>6} {row['miou']:6.3f} {row['defect_miou']:6.3f}  "
              + ' '.join(f"{row['iou'][c]:9.3f}" if row['iou'][c] is not None else f"{'-':>9}" for c in classes[1:]))
    if args.out:
        atomic_write_text(args.out, json.dumps(dict(config=args.config, split=args.split, images=len(paths),
                                                    strides=table), indent=2))


if __name__ == '__main__':
    cli_main(main)
