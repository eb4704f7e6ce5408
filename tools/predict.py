"""Inspect new images with a trained segmenter: mask PNGs, overlays, one JSON line per image, a summary CSV.

    python tools/predict.py CONFIG CHECKPOINT INPUT [INPUT ...] --out-dir work_dirs/line3/predict \
        [--batch-size 4] [--device cpu] [--decision decision.json | --score-thr 0.5 --min-area 1]
    python tools/predict.py CONFIG INPUT [INPUT ...] --onnx model.onnx --out-dir ...   # ONNX Runtime

INPUT: an image, a folder (searched recursively) or a .txt list of paths. Per image: ``masks/<name>.png``
(class ids), ``overlays/<name>.png`` (image | prediction with boxes and a class legend), a line of
``predictions.jsonl`` (image, OK / NG decision, score, per defect class: area in px and %, max probability,
connected regions with boxes) and a row of ``summary.csv``. The OK / NG rule is the ``decision.json`` the pipeline
calibrated on the validation split (found beside the checkpoint), unless given. Unreadable files are reported
(``error`` lines) and skipped; an interrupted run resumes without redoing finished images.
"""
import argparse
import csv
import json
import os
import os.path as osp
import time

import cv2
import numpy as np

from mmwsss.apis.defect_inferencer import DECISION_BY, DefectInferencer, list_inputs
from mmwsss.utils import (add_class_gate_flags, add_debug_flag, add_tta_flags, atomic_write_png, atomic_write_text,
                          class_gate, cli_main, tta_scales)
from mmwsss.visualization.panels import colorize, dataset_palette


def parse_args():
    parser = argparse.ArgumentParser(description='OK / NG inspection of new images with a trained segmenter')
    parser.add_argument('config', help='segmenter config')
    parser.add_argument('checkpoint', nargs='?', help='segmenter checkpoint (a pickle: load trusted files only), or '
                        'a .onnx file from tools/deployment/pytorch2onnx.py (run by ONNX Runtime); none with --onnx')
    parser.add_argument('inputs', nargs='*', help='images, folders (recursive) or .txt lists of paths')
    parser.add_argument('--onnx', help='run this exported model with ONNX Runtime; then give no checkpoint: '
                        'CONFIG INPUT ... --onnx model.onnx')
    parser.add_argument('--out-dir', required=True)
    parser.add_argument('--batch-size', type=int, default=4)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--decision', help='decision.json (default: the one beside the checkpoint)')
    parser.add_argument('--score-thr', type=float, help='defect probability a pixel needs (overrides --decision)')
    parser.add_argument('--min-area', type=int, help='defect pixels an NG image needs (overrides --decision)')
    add_tta_flags(parser)
    parser.add_argument('--no-overlay', action='store_true', help='write masks and JSON only')
    add_class_gate_flags(parser)
    parser.add_argument('--decision-by', default='segmenter', choices=DECISION_BY,
                        help='which model decides OK / NG (all but segmenter need --classifier)')
    add_debug_flag(parser)
    args = parser.parse_args()
    if args.onnx:  # no checkpoint given: the second positional is the first input
        if args.checkpoint and args.checkpoint.lower().endswith(('.pth', '.pt', '.onnx')):
            parser.error(f'--onnx runs {args.onnx}: give no checkpoint ({args.checkpoint}), only CONFIG and INPUTs')
        args.inputs = ([args.checkpoint] if args.checkpoint else []) + args.inputs
        args.checkpoint = args.onnx
    if not args.checkpoint:
        parser.error('no CHECKPOINT given (a .pth, a .onnx, or --onnx FILE)')
    if not args.inputs:
        parser.error('no INPUT given (images, folders or .txt lists of paths)')
    args.tta_scales = tta_scales(args, parser)
    class_gate(args, parser)
    return args


def output_key(path: str, roots: list) -> str:
    """A flat, unique output name: the path below its input folder, separators as '__'."""
    for root in roots:
        if osp.isdir(root) and osp.abspath(path).startswith(osp.abspath(root) + os.sep):
            return osp.splitext(osp.relpath(path, root))[0].replace(os.sep, '__')
    return osp.splitext(osp.basename(path))[0]


def draw_overlay(image: np.ndarray, result: dict, classes: list, palette: list) -> np.ndarray:
    """image | image with the prediction blended in, region boxes, the decision and a class legend."""
    painted = cv2.addWeighted(image, 0.6, colorize(result['mask'], palette), 0.4, 0)
    painted[result['mask'] == 0] = image[result['mask'] == 0]
    for name, found in result['classes'].items():
        colour = tuple(int(c) for c in palette[classes.index(name)][::-1])
        for region in found['regions']:
            x, y, w, h = region['box']
            cv2.rectangle(painted, (x, y), (x + w - 1, y + h - 1), colour, 1)
    row = np.concatenate([image, painted], axis=1)
    band = np.full((18 * (2 + len(classes) - 1), row.shape[1], 3), 255, np.uint8)
    cv2.putText(band, f"{result['decision']}  score {result['score']:.2f}", (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.45,
                (0, 0, 200) if result['decision'] == 'NG' else (0, 140, 0), 1)
    for i, name in enumerate(classes[1:], start=1):
        colour = tuple(int(c) for c in palette[i][::-1])
        cv2.rectangle(band, (4, 18 * i + 6), (14, 18 * i + 16), colour, -1)
        cv2.putText(band, name, (20, 18 * i + 15), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1)
    cv2.putText(band, 'image | prediction', (row.shape[1] // 2, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1)
    return np.concatenate([band, row], axis=0)


def main():
    args = parse_args()
    from tqdm import tqdm
    decision = args.decision
    if args.score_thr is not None or args.min_area is not None:
        decision = dict(score_thr=0.5 if args.score_thr is None else args.score_thr,
                        min_area=1 if args.min_area is None else args.min_area)
    inferencer = DefectInferencer(args.config, args.checkpoint, decision=decision, device=args.device,
                                  batch_size=args.batch_size, classifier=args.classifier, decision_by=args.decision_by,
                                  tta_scales=args.tta_scales, class_gate=args.class_gate,
                                  gate_recall=args.gate_recall, gate_mode=args.gate_mode)
    classes = inferencer.classes
    palette = dataset_palette(inferencer.cfg.test_dataloader.dataset, len(classes))
    paths = list_inputs(args.inputs)
    os.makedirs(args.out_dir, exist_ok=True)
    lines_path = osp.join(args.out_dir, 'predictions.jsonl')
    done = {r['image'] for r in finished_lines(lines_path)}  # resume: images with a line are finished
    todo = [p for p in paths if p not in done]
    print(f'[mmwsss] predict: {len(paths)} images, {len(done)} done before, decision {inferencer.decision}')
    start, n = time.time(), 0
    with open(lines_path, 'a', encoding='utf-8') as lines:
        for result in tqdm(inferencer(todo, keep_image=not args.no_overlay), total=len(todo), desc='predict',
                           unit='img'):
            if 'error' not in result:
                key = output_key(result['image'], args.inputs)
                atomic_write_png(osp.join(args.out_dir, 'masks', key + '.png'), result['mask'])
                if not args.no_overlay:  # the image the inferencer decoded, not read a second time
                    atomic_write_png(osp.join(args.out_dir, 'overlays', key + '.png'),
                                     draw_overlay(result['img'], result, classes, palette))
                result = {k: v for k, v in result.items() if k not in ('mask', 'img')}
                n += 1
            lines.write(json.dumps(result) + '\n')
            lines.flush()
    write_summary(lines_path, osp.join(args.out_dir, 'summary.csv'), classes)
    seconds = time.time() - start
    print(f'[mmwsss] {n} images in {seconds:.1f} s ({n / max(seconds, 1e-9):.2f} img/s); '
          f'{osp.join(args.out_dir, "summary.csv")}')


def finished_lines(path: str) -> list:
    """The complete lines of ``predictions.jsonl`` (results and errors); a last line cut short by a killed run
    is dropped from the file, so the resumed run appends after whole lines only."""
    if not osp.isfile(path):
        return []
    with open(path, encoding='utf-8') as f:
        raw = f.read().splitlines(keepends=True)
    rows, keep = [], []
    for line in raw:
        try:
            rows.append(json.loads(line))
            keep.append(line if line.endswith('\n') else line + '\n')
        except json.JSONDecodeError:
            continue
    if len(keep) != len(raw) or (raw and not raw[-1].endswith('\n')):
        atomic_write_text(path, ''.join(keep))
    return rows


def write_summary(lines_path: str, csv_path: str, classes: list) -> None:
    """summary.csv from predictions.jsonl: image, decision, score, area per class; unreadable files last."""
    rows = finished_lines(lines_path)
    fields = ['image', 'decision', 'score', 'defect_area'] + [f'{c}_area_px' for c in classes[1:]]
    with_classifier = any('classifier_scores' in r for r in rows)
    if with_classifier:
        fields += ['segmenter_decision', 'classifier_decision'] + [f'{c}_classifier_score' for c in classes[1:]]
    fields.append('error')
    with open(csv_path, 'w', newline='', encoding='utf-8') as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        for r in sorted(rows, key=lambda r: 'error' in r):
            row = {k: r.get(k, '') for k in ('image', 'decision', 'score', 'defect_area', 'error')}
            if with_classifier:
                row.update(segmenter_decision=r.get('segmenter_decision', ''),
                           classifier_decision=r.get('classifier_decision', ''),
                           **{f'{c}_classifier_score': r.get('classifier_scores', {}).get(c, '') for c in classes[1:]})
            row.update({f'{c}_area_px': r.get('classes', {}).get(c, {}).get('area_px', 0) if 'error' not in r else ''
                        for c in classes[1:]})
            writer.writerow(row)


if __name__ == '__main__':
    cli_main(main)
