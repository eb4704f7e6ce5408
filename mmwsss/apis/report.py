"""Pipeline report: ``results.json`` (machines), ``results.md`` (people), overlay PNGs (eyes)."""
import json
import os.path as osp
from typing import Dict, List, Tuple

import cv2
import numpy as np
import torch
from mmengine.dataset import pseudo_collate
from mmengine.registry import DefaultScope

from mmwsss.datasets.layout import ANN_DIR, IMG_DIR, labels_file, read_image, read_image_labels
from mmwsss.utils import atomic_write_png, atomic_write_text
from mmwsss.visualization.panels import colorize, dataset_palette, heatmap, titled_row

OVERLAY_TITLES = ('image', 'GT', 'CAM', 'pseudo-label', 'prediction')


def _pick_examples(data_root: str, num: int, num_classes: int) -> List[str]:
    """Up to ``num`` defective training images, round-robin over the defect classes."""
    per_class: Dict[int, List[str]] = {k: [] for k in range(1, num_classes)}
    for name, labels in read_image_labels(labels_file(data_root, 'train')):
        if labels:
            per_class[labels[0]].append(name)
    picked: List[str] = []
    while len(picked) < num and any(per_class.values()):
        for k in per_class:
            if per_class[k] and len(picked) < num:
                picked.append(per_class[k].pop(0))
    return picked


def write_overlays(pipeline, num: int) -> List[str]:
    """image | GT | CAM | pseudo-label | prediction (of the final segmenter: the last refinement round's)
    rows for ``num`` defective training images, each panel titled, a class legend below."""
    from mmpretrain.registry import DATASETS
    from mmseg.apis import inference_model, init_model

    from .cam_inferencer import CAMInferencer
    from .pseudo_label_generation import load_classifier

    root = pipeline.cfg.data_root
    seg_cfg = pipeline._sub_config('segmenter')
    classes = pipeline._segmenter_classes()
    palette = dataset_palette(seg_cfg.test_dataloader.dataset, len(classes))
    cls_cfg = pipeline._classifier_cfg_with_cam()
    classifier = load_classifier(cls_cfg, pipeline.state['stages']['classifier']['result']['checkpoint'],
                                 pipeline.device)
    inferencer = CAMInferencer(classifier, cls_cfg, cls_cfg.cam['method'])
    with DefaultScope.overwrite_default_scope('mmseg'):
        rounds = pipeline.state['stages'].get('refinement', {}).get('result', {}).get('rounds') or []
        final = rounds[-1]['checkpoint'] if rounds else pipeline.state['stages']['segmenter']['result']['checkpoint']
        segmenter = init_model(seg_cfg, final, device=pipeline.device)
    cam_set = DATASETS.build(cls_cfg.cam_dataloader.dataset)
    index = {osp.basename(cam_set.get_data_info(i)['img_path']): i for i in range(len(cam_set))}
    names = _pick_examples(root, num, len(classes))
    # one batch, as pseudo-label generation draws them (the CAM pipeline gives every image one size)
    all_maps = inferencer(pseudo_collate([cam_set[index[name]] for name in names])).cams if names else None
    paths = []
    for n, name in enumerate(names):
        stem = osp.splitext(name)[0]
        image = read_image(osp.join(root, IMG_DIR, 'train', name), cv2.IMREAD_COLOR)
        h, w = image.shape[:2]
        gt_path = osp.join(root, ANN_DIR, 'train', stem + '.png')
        # no mask (weak supervision proper): the GT panel is drawn as ignore (white)
        gt = read_image(gt_path) if osp.isfile(gt_path) else np.full((h, w), 255, np.uint8)
        pseudo = read_image(osp.join(pipeline.pseudo_label_dir(), stem + '.png'))
        cam_map = torch.nn.functional.interpolate(all_maps[n:n + 1], size=(h, w), mode='bilinear',
                                                  align_corners=False)[0].max(0).values.cpu().numpy()
        with DefaultScope.overwrite_default_scope('mmseg'):
            pred = inference_model(segmenter, image).pred_sem_seg.data[0].cpu().numpy().astype(np.uint8)
        row = titled_row([image, colorize(gt, palette), heatmap(cam_map, image), colorize(pseudo, palette),
                          colorize(pred, palette)], OVERLAY_TITLES, classes, palette)
        path = osp.join(pipeline.work_dir, 'overlays', f'{stem}.png')
        atomic_write_png(path, row)
        paths.append(path)
    return paths


def _f(v) -> str:
    return '-' if v is None else f'{v:.3f}'


def results_table(results: Dict) -> Tuple[List[str], List[List[str]]]:
    """The results table: header (stage, split, metric, one column per defect class) and rows of cells
    (fractions shown with 3 decimals), shared by ``results.md`` and ``results.html``."""
    f = _f
    classes = list(results['segmenter']['defect_iou'])
    pad = [''] * len(classes)

    def iou_row(stage, split, part):
        return [stage, split, f"mIoU {f(part['miou'])}, defect-mIoU {f(part['defect_miou'])}"] + [
            f(part['defect_iou'][c]) for c in classes]

    pl, seg, cls = results['pseudo_labels'], results['segmenter'], results['classifier']
    rows = [[
        'classifier', 'test', f"accuracy {f(cls['accuracy'])} (OK/NG {f(cls.get('ok_ng_accuracy'))}, F1 "
        f"{f(cls.get('f1'))})"] + pad, iou_row(f"pseudo-labels ({results['cam_method']})", 'train', pl)]
    rows += [iou_row(f'pseudo-labels ({m}, compared: not trained on)', 'train', c)
             for m, c in pl.get('compared', {}).items()]
    rows.append(iou_row('segmenter', 'test', seg))
    if seg.get('class_gated'):
        rows.append(iou_row('segmenter, class-gated by the classifier', 'test', seg['class_gated']))
    for r in results.get('rounds', [])[1:]:
        rows += [iou_row(f"pseudo-labels, round {r['round']}", 'train', r['pseudo_labels']),
                 iou_row(f"segmenter, round {r['round']}", 'test', r['segmenter'])]
        if r.get('class_gated'):
            rows.append(iou_row(f"segmenter, round {r['round']}, class-gated", 'test', r['class_gated']))
    for name, part in (('segmenter', seg), ('fully supervised', results.get('fully_supervised'))):
        img = (part or {}).get('image_level') or {}
        if img:
            rows.append([f'{name}, image level', 'test', f"AUROC {f(img.get('auroc'))}, AP {f(img.get('ap'))}, "
                         f"OK/NG accuracy {f(img.get('accuracy'))}, NG recall {f(img.get('ng_recall'))}, OK "
                         f"false alarms {f(img.get('ok_false_alarm_rate'))}"] + pad)
        pix = (part or {}).get('pixel_level') or {}
        if pix:
            rows.append([f'{name}, pixel level', 'test', f"AUROC {f(pix.get('auroc'))}, AUPRO (FPR <= 0.3) "
                         f"{f(pix.get('aupro'))}, F1-max {f(pix.get('f1_max'))}"] + pad)
    full = results.get('fully_supervised')
    if full is not None:
        rows.append(iou_row('fully supervised (GT masks)', 'test', full))
        if full.get('class_gated'):
            rows.append(iou_row('fully supervised, class-gated by the classifier', 'test', full['class_gated']))
        rows.append(['weak / full', 'test', f"defect-mIoU {f(results['ratio_to_fully_supervised'])}, mIoU "
                     f"{f(results['ratio_to_fully_supervised_miou'])}"] + pad)
    return ['stage', 'split', 'metric'] + classes, rows


def results_notes(results: Dict) -> List[str]:
    """The lines under the table: what was not measured (no masks), one per part; with the contrast prior, which
    classes it narrowed and which kept their CAM regions."""
    notes = sorted({f"{k}: {v['not_measured']}" for k, v in (('pseudo-label IoU', results['pseudo_labels']),
                                                              ('segmenter IoU', results['segmenter']))
                    if v.get('not_measured')})
    decided = results['pseudo_labels'].get('contrast_prior_classes')
    if decided:
        narrowed = [c for c, v in decided.items() if v['narrowed']]
        kept = [f"{c} (median peak {v['median_peak']:.2f})" for c, v in decided.items() if not v['narrowed']]
        notes.append(f"contrast prior: narrowed {', '.join(narrowed) or 'no class'}; CAM regions kept for "
                     f"{', '.join(kept) or 'no class'}")
    return notes


def format_markdown(results: Dict) -> str:
    """The results table as markdown (:func:`results_table`)."""
    head, rows = results_table(results)
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    lines += ['| ' + ' | '.join(r) + ' |' for r in rows]
    secs = ', '.join(f'{k} {v:.0f}s' for k, v in results['seconds'].items())
    notes = results_notes(results)
    return (f"### {results['dataset']}: weakly supervised pipeline ({results['cam_method']})\n\n"
            + '\n'.join(lines) + (f"\n\n{'; '.join(notes)}." if notes else '')
            + f'\n\nTime: {secs}.\n')


def final_segmenters(pipeline) -> Dict[str, Dict]:
    """Trained segmenters to review: ``{'segmenter' (the last refinement round's), 'fully_supervised'}`` ->
    ``dict(key, checkpoint, decision)`` for the stages that ran."""
    st = pipeline.state['stages']
    rounds = st.get('refinement', {}).get('result', {}).get('rounds') or []
    out = {}
    if st.get('segmenter', {}).get('done'):
        seg = st['segmenter']['result']
        final = rounds[-1] if rounds else seg  # each refinement round calibrated its own decision
        out['segmenter'] = dict(key='segmenter', checkpoint=final['checkpoint'], decision=final.get('decision'))
    full = st.get('fully_supervised', {})
    if full.get('done') and full.get('result', {}).get('checkpoint'):
        out['fully_supervised'] = dict(key='fully_supervised', checkpoint=full['result']['checkpoint'],
                                       decision=full['result'].get('decision'))
    return out


def segmenter_inferencer(pipeline, model: Dict):
    """A :class:`~mmwsss.apis.defect_inferencer.DefectInferencer` of one of :func:`final_segmenters`."""
    from .defect_inferencer import DECISION_KEYS, DefectInferencer
    decision = {k: model['decision'][k] for k in DECISION_KEYS} if model.get('decision') else None
    return DefectInferencer(pipeline._segmenter_config(model['key']), model['checkpoint'], decision=decision,
                            device=pipeline.device)


def score_test_images(pipeline, inferencer, classes: List[str]) -> List[Dict]:
    """Every test image through a trained segmenter: ``image``, ``labels`` (class names), ``score`` (highest
    defect probability), ``decision`` and, with a GT mask, ``iou`` per class of the image (prediction vs GT)."""
    root = pipeline.cfg.data_root
    items = read_image_labels(labels_file(root, 'test'))
    paths = [osp.join(root, IMG_DIR, 'test', name) for name, _ in items]
    rows = []
    for (name, labels), result in zip(items, inferencer(paths)):
        if 'error' in result:
            continue
        row = dict(image=name, labels=[classes[k] for k in labels], score=result['score'],
                   decision=result['decision'])
        gt_path = osp.join(root, ANN_DIR, 'test', osp.splitext(name)[0] + '.png')
        if osp.isfile(gt_path):
            gt, pred = read_image(gt_path), result['mask']
            row['iou'] = {classes[k]: round(float(((gt == k) & (pred == k)).sum()) /
                                            max(1, int(((gt == k) | (pred == k)).sum())), 4) for k in labels}
        rows.append(row)
    return rows


def write_galleries(pipeline, key: str, inferencer, rows: List[Dict], classes: List[str],
                    num: int) -> Dict[str, Dict]:
    """Per defect class, the ``num`` worst and best test images (by IoU of the class with masks, else by
    score) as titled image | GT | prediction rows -> ``{class: {'worst': [...], 'best': [...]}}``."""
    root = pipeline.cfg.data_root
    palette = dataset_palette(inferencer.cfg.test_dataloader.dataset, len(classes))
    out: Dict[str, Dict] = {}
    for c in classes[1:]:
        members = [r for r in rows if c in r['labels']]
        members.sort(key=lambda r: (r.get('iou', {}).get(c, r['score']), r['image']))
        worst = members[:num]
        picks = dict(worst=worst, best=[r for r in members[::-1] if r not in worst][:num])  # disjoint
        out[c] = {}
        for kind, chosen in picks.items():
            paths = []
            for r in chosen:
                stem = osp.splitext(r['image'])[0]
                image = read_image(osp.join(root, IMG_DIR, 'test', r['image']), cv2.IMREAD_COLOR)
                pred = inferencer.predict_arrays([image])[0]['mask']
                gt_path = osp.join(root, ANN_DIR, 'test', stem + '.png')
                panels, titles = [image], ['image']
                if osp.isfile(gt_path):
                    panels.append(colorize(read_image(gt_path), palette))
                    titles.append('GT')
                panels.append(colorize(pred, palette))
                titles.append(f"prediction: {r['decision']}")
                path = osp.join(pipeline.work_dir, 'report', key, f'{c}_{kind}_{stem}.png')
                atomic_write_png(path, titled_row(panels, titles, classes, palette))
                paths.append(dict(png=path, image=r['image'], score=r['score'], iou=r.get('iou', {}).get(c)))
            out[c][kind] = paths
    return out


def write_review_queue(pipeline, classes: List[str], num: int) -> List[Dict]:
    """The ``num`` least confident pseudo-labels (``confidence.csv``) as titled image | pseudo-label rows."""
    from mmwsss.visualization.pseudo_label_review import read_confidence
    label_dir = pipeline.pseudo_label_dir()
    if not osp.isfile(osp.join(label_dir, 'confidence.csv')):
        return []
    palette = dataset_palette(pipeline._sub_config('segmenter').test_dataloader.dataset, len(classes))
    rows = sorted((r for r in read_confidence(label_dir) if r['classes']), key=lambda r: r['confidence'])[:num]
    out = []
    for r in rows:
        stem = osp.splitext(r['image'])[0]
        image = read_image(r['img_path'], cv2.IMREAD_COLOR)
        label = read_image(osp.join(label_dir, stem + '.png'))
        path = osp.join(pipeline.work_dir, 'report', 'review', f'{stem}.png')
        atomic_write_png(path, titled_row([image, colorize(label, palette)], ['image', 'pseudo-label'], classes,
                                          palette))
        out.append(dict(png=path, image=r['image'], classes=r['classes'], confidence=r['confidence']))
    return out


def write_report(pipeline) -> Dict:
    """Pictures for people: overlays of training images, per-image test scores (``report/test_scores.json``:
    the curves of ``results.html``), galleries of the best and worst test images per class, the pseudo-label
    review queue. ``report.num_overlays`` / ``report.num_gallery`` / ``report.num_review`` (0 = none)."""
    opts = pipeline.cfg.get('report', {})
    num, num_gallery, num_review = (int(opts.get(k, d)) for k, d in (('num_overlays', 4), ('num_gallery', 3),
                                                                       ('num_review', 6)))
    classes = pipeline._segmenter_classes()
    out: Dict = dict(overlays=[], test_scores={}, galleries={}, review=[])
    if num > 0:
        with DefaultScope.overwrite_default_scope('mmpretrain'):
            out['overlays'] = write_overlays(pipeline, num)
    for name, model in final_segmenters(pipeline).items():
        inferencer = segmenter_inferencer(pipeline, model)
        rows = score_test_images(pipeline, inferencer, classes)
        out['test_scores'][name] = rows
        if num_gallery > 0:
            out['galleries'][name] = write_galleries(pipeline, name, inferencer, rows, classes, num_gallery)
    if num_review > 0:
        out['review'] = write_review_queue(pipeline, classes, num_review)
    path = osp.join(pipeline.work_dir, 'report', 'test_scores.json')
    atomic_write_text(path, json.dumps(out.pop('test_scores'), indent=1))
    out['test_scores'] = path
    return out


def write_results(pipeline) -> Dict:
    """``results.json``, ``results.md`` and the self-contained ``results.html`` of a finished pipeline."""
    from mmwsss.visualization.html_report import write_html_report
    results = pipeline.results()
    report = pipeline.state['stages'].get('report', {}).get('result', {})
    results['overlays'] = report.get('overlays', [])
    atomic_write_text(osp.join(pipeline.work_dir, 'results.json'), json.dumps(results, indent=2))
    atomic_write_text(osp.join(pipeline.work_dir, 'results.md'), format_markdown(results))
    head, rows = results_table(results)
    write_html_report(osp.join(pipeline.work_dir, 'results.html'), results, (head, rows), results_notes(results),
                      report, pipeline._segmenter_classes(),
                      dataset_palette(pipeline._sub_config('segmenter').test_dataloader.dataset,
                                      len(pipeline._segmenter_classes())))
    return results
