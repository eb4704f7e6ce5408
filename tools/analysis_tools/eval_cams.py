"""Score CAM methods with the WSSS protocol on one split of a classifier config's data.

    python tools/analysis_tools/eval_cams.py CLS_CONFIG CHECKPOINT --methods racam gradcam layercam \
        --split train --out-dir work_dirs/cam_eval

Per method: CAMs of the image-level classes; background by a threshold swept over --thresholds; one
confusion matrix per threshold over the whole split vs the GT masks; the threshold with the best
defect-mIoU (or --select miou) is reported with mIoU (with background), defect-mIoU and per-class IoU.
Writes cam_eval.json, cam_eval.md and a gallery (image | GT | each method) to --out-dir.
Method settings come from the config's ``cam_presets`` (e.g. target layers, FGBP q), overridable with
--cfg-options model.head.cam_cfg.q=0.8 (a head setting) or cam_presets.racam_q80.q=0.9 (a preset).
"""
import argparse
import json
import os.path as osp
import time

import cv2
import numpy as np
import torch
from mmengine.dataset import pseudo_collate
from mmengine.registry import DefaultScope
from torch.utils.data import DataLoader, Subset

import mmwsss  # noqa: F401
from mmwsss.apis import prepare_config
from mmwsss.apis.cam_inferencer import CAMInferencer
from mmwsss.apis.pseudo_label_generation import load_classifier
from mmwsss.cam import score_map
from mmwsss.cam.threshold_rules import (CLASS_FLOOR_RULES, FLOOR_GRID, SPLIT_RULES, THRESHOLD_RULES, agreement_counts,
                                        best_agreement, image_thresholds, otsu_thresholds, score_histograms,
                                        split_threshold)
from mmwsss.datasets.layout import read_image
from mmwsss.evaluation import BinnedConfusion, FloorSweep, ThresholdSweep
from mmwsss.evaluation.segmentation_scores import confusion_matrix, iou_from_confusion, summarize_iou
from mmwsss.utils import add_debug_flag, atomic_write_png, atomic_write_text, cfg_options_action, cli_main
from mmwsss.visualization.panels import colorize, default_palette, heatmap


def parse_args():
    parser = argparse.ArgumentParser(description='Evaluate CAM methods (WSSS protocol)')
    parser.add_argument('config', help='classifier config')
    parser.add_argument('checkpoint', help='classifier checkpoint (trusted pickle)')
    parser.add_argument('--methods', nargs='+', default=['racam', 'gradcam'])
    parser.add_argument('--split', default='train', choices=['train', 'val', 'test'])
    parser.add_argument('--out-dir', required=True)
    parser.add_argument('--thresholds', type=float, nargs='+',
                        default=[0.01, 0.02, 0.03] + [round(0.05 * i, 2) for i in range(1, 20)])
    parser.add_argument('--select', default='defect_miou', choices=['defect_miou', 'miou'])
    parser.add_argument('--rules', nargs='*', default=['otsu'],
                        choices=[r for r in THRESHOLD_RULES if r != 'fixed'] + list(SPLIT_RULES),
                        help='GT-free threshold rules scored beside the oracle (GT-swept) threshold: per image '
                        f'({", ".join(r for r in THRESHOLD_RULES if r != "fixed")}) or one per split '
                        f'({", ".join(r for r in SPLIT_RULES if r not in CLASS_FLOOR_RULES)}) or per image with a '
                        f'floor per class ({", ".join(CLASS_FLOOR_RULES)}; the floors from the raw and refined '
                        'maps of the same pass)')
    parser.add_argument('--max-images', type=int, help='first N images of the split (all by default)')
    parser.add_argument('--defective-only', action='store_true', help='score defective images only')
    parser.add_argument('--gallery', type=int, default=6, help='images in the overlay gallery')
    parser.add_argument('--batch-size', type=int, default=16)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--data-root')
    parser.add_argument('--cfg-options', nargs='+', action=cfg_options_action())
    add_debug_flag(parser)
    return parser.parse_args()


def split_dataset_cfg(cfg, split):
    ds = cfg.cam_dataloader.dataset.copy()
    ds.ann_file = f'image_labels/{split}.txt'
    ds.data_prefix = dict(img_path=f'img_dir/{split}', seg_map_path=f'ann_dir/{split}')
    return ds


def main():
    args = parse_args()
    cfg = prepare_config(args.config, cfg_options=args.cfg_options, data_root=args.data_root)
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmpretrain')):
        run(args, cfg)


def run(args, cfg):
    from mmpretrain.registry import DATASETS
    dataset = DATASETS.build(split_dataset_cfg(cfg, args.split))
    indices = [i for i in range(len(dataset)) if not args.defective_only or dataset.get_data_info(i)['gt_label']]
    if args.max_images:
        indices = indices[:args.max_images]
    seg_dir = dataset.data_prefix['seg_map_path']
    class_names = ['background'] + list(dataset.metainfo['classes'])
    model = load_classifier(cfg, args.checkpoint, args.device)
    gallery_idx = [i for i in indices if dataset.get_data_info(i)['gt_label']][:args.gallery]
    gallery = {i: [] for i in gallery_idx}
    results = {}
    from tqdm import tqdm
    for method in args.methods:
        inferencer = CAMInferencer(model, cfg, method)
        sweep = ThresholdSweep(len(class_names), args.thresholds)
        image_rules = [r for r in args.rules if r not in SPLIT_RULES]
        split_rules = [r for r in args.rules if r in SPLIT_RULES and r not in CLASS_FLOOR_RULES]
        floor_rule = any(r in CLASS_FLOOR_RULES for r in args.rules)
        floors = torch.tensor(FLOOR_GRID)
        floor_sweep = FloorSweep(len(class_names), FLOOR_GRID)
        agreement = torch.zeros(len(class_names) - 1, len(FLOOR_GRID), 2, dtype=torch.long)
        rule_cm = {r: torch.zeros(len(class_names), len(class_names), dtype=torch.long) for r in image_rules}
        binned, histograms = BinnedConfusion(len(class_names)), []
        loader = DataLoader(Subset(dataset, indices), batch_size=args.batch_size, collate_fn=pseudo_collate)
        seconds, images = 0.0, 0
        pos = 0
        for data in tqdm(loader, desc=method, unit='batch'):
            start = time.perf_counter()
            batch = inferencer(data)
            seconds += time.perf_counter() - start
            cams, mask, samples = batch.cams, batch.class_mask, batch.data_samples
            images += len(samples)
            for n, s in enumerate(samples):
                stem = osp.splitext(osp.basename(s.img_path))[0]
                gt = torch.from_numpy(read_image(osp.join(seg_dir, stem + '.png')))
                sweep.update(cams[n], mask[n], gt)
                if args.rules:  # the map at the image's size, as pseudo-label generation thresholds it
                    _, score, label = score_map(cams[n:n + 1].float(), mask[n:n + 1], gt.shape)
                    for rule in image_rules:
                        _, cut = image_thresholds(score[None], dict(type=rule, bg_ratio=1.0), 0.0, 0.0)
                        pred = torch.where(score >= cut[0], label, torch.zeros_like(label))
                        rule_cm[rule] += confusion_matrix(pred.cpu(), gt, len(class_names))
                    if split_rules:  # one threshold for the split, known after the last image
                        binned.update(score, label, gt)
                        histograms.append(score_histograms(score[None]).cpu())
                    if floor_rule:  # floors per class, known after the last image
                        cut = otsu_thresholds(score[None])
                        floor_sweep.update(score, label, float(cut[0]), gt)
                        if batch.raw_cams is not None:
                            _, raw_score, raw_label = score_map(batch.raw_cams[n:n + 1].float(), mask[n:n + 1],
                                                                gt.shape)
                            agreement += agreement_counts(score[None], label[None], cut, raw_score[None],
                                                          raw_label[None], otsu_thresholds(raw_score[None]),
                                                          len(class_names) - 1, floors).cpu()
                idx = indices[pos]
                if idx in gallery:
                    up = torch.nn.functional.interpolate(cams[n:n + 1], size=tuple(gt.shape), mode='bilinear',
                                                         align_corners=False)[0].max(0).values
                    gallery[idx].append(up.cpu().numpy())
                pos += 1
        summary = sweep.summary(class_names, args.select)
        summary.update(method=inferencer.method, target_layers=inferencer.target_layers,
                       settings=inferencer.settings, images=images,
                       seconds_per_image=round(seconds / max(images, 1), 4))
        summary['gt_free'] = {}
        split_thr = {r: split_threshold(r, torch.cat(histograms)) for r in split_rules if histograms}
        rule_cm.update({r: binned.confusion(t) for r, t in split_thr.items()})
        class_floors = {}
        if floor_rule:
            index, _ = best_agreement(agreement)
            class_floors = {c: FLOOR_GRID[int(i)] for c, i in zip(class_names[1:], index)}
            rule_cm.update({r: floor_sweep.confusion_at(index) for r in CLASS_FLOOR_RULES if r in args.rules})
        for rule, cm in rule_cm.items():
            scores = summarize_iou(iou_from_confusion(cm), class_names)
            best = summary[args.select]
            scores['ratio_to_oracle'] = round(scores[args.select] / best, 4) if best else None
            if rule in split_thr:
                scores['threshold'] = round(split_thr[rule], 4)
            if rule in CLASS_FLOOR_RULES:
                scores['class_floors'] = class_floors
            summary['gt_free'][rule] = scores
        results[method] = summary
        write_tables(args, class_names, results)  # after every method: a long run keeps what it measured
        print(f"{method:16s} thr {summary['best_threshold']:.2f}  mIoU {summary['miou']:.3f}  "
              f"defect-mIoU {summary['defect_miou']:.3f}  {summary['seconds_per_image'] * 1000:.1f} ms/img")
    print(write_tables(args, class_names, results))
    write_gallery(args, dataset, class_names, gallery)


def write_tables(args, class_names, results) -> str:
    out = dict(config=args.config, checkpoint=args.checkpoint, split=args.split, selected_by=args.select,
               defective_only=args.defective_only, methods=results)
    atomic_write_text(osp.join(args.out_dir, 'cam_eval.json'), json.dumps(out, indent=2))
    defects = class_names[1:]
    lines = ['| method | threshold | mIoU | defect-mIoU | ' + ' | '.join(defects) + ' | ms/img |',
             '|' + '---|' * (5 + len(defects))]

    def cells(r):
        return ' | '.join('-' if r['defect_iou'][c] is None else f"{r['defect_iou'][c]:.3f}" for c in defects)

    for m, r in results.items():
        lines.append(f"| {m} | oracle {r['best_threshold']:.2f} (GT-swept) | {r['miou']:.3f} | "
                     f"{r['defect_miou']:.3f} | {cells(r)} | {r['seconds_per_image'] * 1000:.1f} |")
        for rule, g in r.get('gt_free', {}).items():
            where = f"one per split, {g['threshold']:.2f}" if 'threshold' in g else 'per image'
            if 'class_floors' in g:
                where = 'per image, floors ' + '/'.join(f'{f:.2f}' for f in g['class_floors'].values())
            lines.append(f"| {m} | {rule} {where} (no GT; {g['ratio_to_oracle']:.2f}x oracle) | {g['miou']:.3f} | "
                         f"{g['defect_miou']:.3f} | {cells(g)} | |")
    atomic_write_text(osp.join(args.out_dir, 'cam_eval.md'), '\n'.join(lines) + '\n')
    return '\n'.join(lines)


def write_gallery(args, dataset, class_names, gallery):
    for idx, maps in gallery.items():
        info = dataset.get_data_info(idx)
        image = read_image(info['img_path'], cv2.IMREAD_COLOR)
        stem = osp.splitext(osp.basename(info['img_path']))[0]
        gt = read_image(osp.join(dataset.data_prefix['seg_map_path'], stem + '.png'))
        panels = [image, colorize(gt, default_palette(len(class_names)))] + [heatmap(m, image) for m in maps]
        row = np.concatenate(panels, axis=1)
        atomic_write_png(osp.join(args.out_dir, 'gallery', f'{stem}.png'), row)


if __name__ == '__main__':
    cli_main(main)
