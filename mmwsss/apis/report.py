"""Pipeline report: ``results.json`` (machines), ``results.md`` (people), overlay PNGs (eyes)."""
import json
import os.path as osp
from typing import Dict, List

import cv2
import numpy as np
import torch
from mmengine.dataset import pseudo_collate
from mmengine.registry import DefaultScope

from mmwsss.datasets.layout import ANN_DIR, IMG_DIR, labels_file, read_image, read_image_labels
from mmwsss.utils import atomic_write_png, atomic_write_text


def colorize(label: np.ndarray, palette: List[List[int]]) -> np.ndarray:
    """(H, W) labels -> (H, W, 3) BGR; 255 (ignore) drawn white."""
    lut = np.full((256, 3), 255, np.uint8)
    lut[:len(palette)] = np.array(palette, np.uint8)[:, ::-1]
    return lut[label]


def default_palette(num: int) -> List[List[int]]:
    """Black background plus ``num - 1`` distinct RGB colours."""
    base = [[230, 25, 75], [60, 180, 75], [255, 225, 25], [0, 130, 200], [245, 130, 48], [145, 30, 180],
            [70, 240, 240], [240, 50, 230]]
    return [[0, 0, 0]] + [base[i % len(base)] for i in range(num - 1)]


def dataset_palette(dataset_cfg: dict, num_classes: int) -> List[List[int]]:
    """Palette of an mmseg dataset config: its ``metainfo``, else its registered type's ``METAINFO``, else
    :func:`default_palette`."""
    from mmseg.registry import DATASETS
    palette = (dataset_cfg.get('metainfo') or {}).get('palette')
    if palette is None:
        dataset_cls = DATASETS.get(dataset_cfg['type'])
        palette = getattr(dataset_cls, 'METAINFO', {}).get('palette') if dataset_cls is not None else None
    return [list(c) for c in palette] if palette else default_palette(num_classes)


def heatmap(cam: np.ndarray, image: np.ndarray) -> np.ndarray:
    """(H, W) map in [0, 1] over a BGR image -> JET overlay."""
    jet = cv2.applyColorMap((np.clip(cam, 0, 1) * 255).astype(np.uint8), cv2.COLORMAP_JET)
    return cv2.addWeighted(image, 0.5, jet, 0.5, 0)


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
    rows for ``num`` defective training images."""
    from mmpretrain.registry import DATASETS
    from mmseg.apis import inference_model, init_model

    from mmwsss.cam import build_cam
    from .pseudo_label_generation import cam_settings, load_classifier

    root = pipeline.cfg.data_root
    seg_cfg = pipeline._sub_config('segmenter')
    classes = pipeline._segmenter_classes()
    palette = dataset_palette(seg_cfg.test_dataloader.dataset, len(classes))
    cls_cfg = pipeline._classifier_cfg_with_cam()
    classifier = load_classifier(cls_cfg, pipeline.state['stages']['classifier']['result']['checkpoint'],
                                 pipeline.device)
    method, layers, kwargs = cam_settings(cls_cfg, cls_cfg.cam['method'])
    cam = build_cam(method, classifier, layers, **kwargs)
    with DefaultScope.overwrite_default_scope('mmseg'):
        rounds = pipeline.state['stages'].get('refinement', {}).get('result', {}).get('rounds') or []
        final = rounds[-1]['checkpoint'] if rounds else pipeline.state['stages']['segmenter']['result']['checkpoint']
        segmenter = init_model(seg_cfg, final, device=pipeline.device)
    cam_set = DATASETS.build(cls_cfg.cam_dataloader.dataset)
    index = {osp.basename(cam_set.get_data_info(i)['img_path']): i for i in range(len(cam_set))}
    paths = []
    for name in _pick_examples(root, num, len(classes)):
        stem = osp.splitext(name)[0]
        image = read_image(osp.join(root, IMG_DIR, 'train', name), cv2.IMREAD_COLOR)
        h, w = image.shape[:2]
        gt_path = osp.join(root, ANN_DIR, 'train', stem + '.png')
        # no mask (weak supervision proper): the GT panel is drawn as ignore (white)
        gt = read_image(gt_path) if osp.isfile(gt_path) else np.full((h, w), 255, np.uint8)
        pseudo = read_image(osp.join(pipeline.pseudo_label_dir(), stem + '.png'))
        data = classifier.data_preprocessor(pseudo_collate([cam_set[index[name]]]), False)
        mask = torch.zeros(1, len(classes) - 1, dtype=torch.bool)
        mask[0, data['data_samples'][0].gt_label] = True
        maps = cam(data['inputs'], mask.to(data['inputs'].device))
        cam_map = torch.nn.functional.interpolate(maps, size=(h, w), mode='bilinear',
                                                  align_corners=False)[0].max(0).values.cpu().numpy()
        with DefaultScope.overwrite_default_scope('mmseg'):
            pred = inference_model(segmenter, image).pred_sem_seg.data[0].cpu().numpy().astype(np.uint8)
        row = np.concatenate([image, colorize(gt, palette), heatmap(cam_map, image), colorize(pseudo, palette),
                              colorize(pred, palette)], axis=1)
        path = osp.join(pipeline.work_dir, 'overlays', f'{stem}.png')
        atomic_write_png(path, row)
        paths.append(path)
    return paths


def format_markdown(results: Dict) -> str:
    """The results table as markdown (fractions shown with 3 decimals)."""

    def f(v):
        return '-' if v is None else f'{v:.3f}'

    classes = list(results['segmenter']['defect_iou'])
    head = '| stage | split | metric | ' + ' | '.join(classes) + ' |'
    sep = '|' + '---|' * (3 + len(classes))
    pl, seg, cls = results['pseudo_labels'], results['segmenter'], results['classifier']
    rows = [
        f"| classifier | test | accuracy {f(cls['accuracy'])} (OK/NG {f(cls.get('ok_ng_accuracy'))}, F1 "
        f"{f(cls.get('f1'))}) |" + ' |' * len(classes),
        f"| pseudo-labels ({results['cam_method']}) | train | mIoU {f(pl['miou'])}, defect-mIoU "
        f"{f(pl['defect_miou'])} | " + ' | '.join(f(pl['defect_iou'][c]) for c in classes) + ' |',
    ] + [
        f"| pseudo-labels ({m}, compared: not trained on) | train | mIoU {f(c['miou'])}, defect-mIoU "
        f"{f(c['defect_miou'])} | " + ' | '.join(f(c['defect_iou'][k]) for k in classes) + ' |'
        for m, c in pl.get('compared', {}).items()
    ] + [
        f"| segmenter | test | mIoU {f(seg['miou'])}, defect-mIoU {f(seg['defect_miou'])} | " +
        ' | '.join(f(seg['defect_iou'][c]) for c in classes) + ' |',
    ]
    for r in results.get('rounds', [])[1:]:
        rpl, rseg = r['pseudo_labels'], r['segmenter']
        rows += [
            f"| pseudo-labels, round {r['round']} | train | mIoU {f(rpl['miou'])}, defect-mIoU "
            f"{f(rpl['defect_miou'])} | " + ' | '.join(f(rpl['defect_iou'][c]) for c in classes) + ' |',
            f"| segmenter, round {r['round']} | test | mIoU {f(rseg['miou'])}, defect-mIoU "
            f"{f(rseg['defect_miou'])} | " + ' | '.join(f(rseg['defect_iou'][c]) for c in classes) + ' |']
    for name, part in (('segmenter', seg), ('fully supervised', results.get('fully_supervised'))):
        img = (part or {}).get('image_level') or {}
        if img:
            rows.append(f"| {name}, image level | test | AUROC {f(img.get('auroc'))}, AP {f(img.get('ap'))}, "
                        f"OK/NG accuracy {f(img.get('accuracy'))}, NG recall {f(img.get('ng_recall'))}, OK "
                        f"false alarms {f(img.get('ok_false_alarm_rate'))} |" + ' |' * len(classes))
    full = results.get('fully_supervised')
    if full is not None:
        rows.append(f"| fully supervised (GT masks) | test | mIoU {f(full['miou'])}, defect-mIoU "
                    f"{f(full['defect_miou'])} | " + ' | '.join(f(full['defect_iou'][c]) for c in classes) + ' |')
        rows.append(f"| weak / full | test | defect-mIoU {f(results['ratio_to_fully_supervised'])}, mIoU "
                    f"{f(results['ratio_to_fully_supervised_miou'])} |" + ' |' * len(classes))
    secs = ', '.join(f'{k} {v:.0f}s' for k, v in results['seconds'].items())
    notes = sorted({f"{k}: {v['not_measured']}" for k, v in (('pseudo-label IoU', pl), ('segmenter IoU', seg))
                    if v.get('not_measured')})
    return (f"### {results['dataset']}: weakly supervised pipeline ({results['cam_method']})\n\n"
            + '\n'.join([head, sep] + rows) + (f"\n\n{'; '.join(notes)}." if notes else '')
            + f'\n\nTime: {secs}.\n')


def write_report(pipeline) -> Dict:
    num = int(pipeline.cfg.get('report', {}).get('num_overlays', 4))
    if num <= 0:
        return dict(overlays=[])
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return dict(overlays=write_overlays(pipeline, num))


def write_results(pipeline) -> Dict:
    results = pipeline.results()
    results['overlays'] = pipeline.state['stages'].get('report', {}).get('result', {}).get('overlays', [])
    atomic_write_text(osp.join(pipeline.work_dir, 'results.json'), json.dumps(results, indent=2))
    atomic_write_text(osp.join(pipeline.work_dir, 'results.md'), format_markdown(results))
    return results
