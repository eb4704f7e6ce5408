"""Stage 2: a trained classifier + image-level labels -> CAMs -> pseudo-label PNGs for the training split."""
import csv
import io
import json
import os
import os.path as osp
import shutil
from typing import Dict, List, Optional, Tuple, Union

import cv2
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.dist import all_gather_object, barrier, get_dist_info
from mmengine.registry import DefaultScope
from mmpretrain.registry import DATASETS
from torch import Tensor
from torch.utils.data import DataLoader

from mmwsss.cam import agreement_labels, cams_to_pseudo_labels, score_map
from mmwsss.cam.contrast_prior import ContrastPrior
from mmwsss.cam.pseudo_labels import IGNORE_INDEX
from mmwsss.cam.threshold_rules import (CLASS_FLOOR_RULES, FLOOR_GRID, agreement_counts, best_agreement,
                                        image_thresholds, is_split_rule, otsu_thresholds, parse_threshold_rule,
                                        score_histograms, split_threshold)
from mmwsss.datasets.layout import ANN_DIR, IMG_DIR, DatasetLayoutError, ImageDecodeError, read_image
from mmwsss.datasets.pseudo_label_dataset import pseudo_label_name
from mmwsss.utils import atomic_write_png, atomic_write_text, file_sha256
from .cam_inferencer import CAMInferencer, cam_settings


def check_output_dir(out_dir: str, data_root: str) -> None:
    """Refuse to write pseudo-labels into (or above) the dataset's image or annotation folders."""
    out = osp.realpath(out_dir)
    for sub in (ANN_DIR, IMG_DIR):
        protected = osp.realpath(osp.join(data_root, sub))
        if out == protected or out.startswith(protected + os.sep) or protected.startswith(out + os.sep):
            raise ValueError(f'refusing to write pseudo-labels into the dataset folder {protected}: '
                             f'choose an --out-dir outside {osp.join(data_root, sub)}')


def load_classifier(config: Config, checkpoint: str, device: str):
    from mmpretrain.apis import init_model
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f'classifier checkpoint not found: {checkpoint}')
    model = init_model(config, checkpoint, device=device)
    model.eval()
    return model


def generate_pseudo_labels(cfg: Config, *args, **kwargs) -> Dict:
    """See :func:`_generate_pseudo_labels`; runs under the classifier config's registry scope."""
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmpretrain')):
        return _generate_pseudo_labels(cfg, *args, **kwargs)


CONFIDENCE_CSV = 'confidence.csv'
CSV_FIELDS = ('image', 'img_path', 'height', 'width', 'classes', 'confidence', 'defect_fraction', 'ignored_fraction',
              'prior_class', 'prior_peak')
ROW_FIELDS = ('confidence', 'defect_fraction', 'ignored_fraction')  # what a label's pixels decide
UNNARROWED_DIR = '.unnarrowed'  # a narrowed label's CAM version until the split decides its class (contrast prior)
# manifest fields that must match for a resumed run to keep earlier files
SETTING_KEYS = ('method', 'bg_thr', 'fg_thr', 'threshold_rule', 'contrast_prior', 'target_layers', 'settings',
                'fusion', 'checkpoint_sha256', 'classes')


def check_settings_manifest(out_dir: str, setting: dict, resume: bool) -> None:
    """Refuse to resume into ``out_dir`` unless its ``manifest.json`` records the same :data:`SETTING_KEYS`.

    The manifest is written before the first label (``status: incomplete``), so labels of an interrupted run
    are checked too; label files without any manifest (made by something else) are refused as well.
    """
    path = osp.join(out_dir, 'manifest.json')
    if not resume:
        return
    if not osp.isfile(path):
        if osp.isdir(out_dir) and any(f.endswith('.png') for f in os.listdir(out_dir)):
            raise ValueError(f'{out_dir} holds label PNGs but no manifest.json: their settings are unknown; choose '
                             'another --out-dir, or --no-resume to rewrite them')
        return
    with open(path) as f:
        before = json.load(f)
    changed = [k for k in SETTING_KEYS if json.dumps(before.get(k)) != json.dumps(setting[k])]
    if changed:
        raise ValueError(f'{out_dir} holds pseudo-labels made with other settings ({", ".join(changed)} differ): '
                         'choose another --out-dir (pipeline: another --work-dir or --restart), or --no-resume to '
                         'rewrite them')


def check_checkpoint_classes(model, classes: List[str], checkpoint: Optional[str]) -> None:
    """Refuse a classifier whose classes (checkpoint ``meta.dataset_meta``, else its head size) differ from
    the dataset's defect classes."""
    head_classes = getattr(getattr(model, 'head', None), 'num_classes', None)
    if head_classes is not None and head_classes != len(classes):
        raise ValueError(f'the classifier {checkpoint or ""} predicts {head_classes} classes, the dataset has '
                         f'{len(classes)} ({", ".join(classes)}): use the checkpoint trained on this dataset')
    # mmpretrain's init_model keeps the checkpoint's meta.dataset_meta as `_dataset_meta`
    meta = getattr(model, '_dataset_meta', None) or getattr(model, 'dataset_meta', None) or {}
    trained = meta.get('classes')
    if trained is not None and list(trained) != list(classes):
        raise ValueError(f'the classifier checkpoint {checkpoint} was trained on classes {list(trained)}, the '
                         f'dataset has {list(classes)}: use the checkpoint trained on this dataset (same class '
                         'names in the same order)')


def pseudo_label_confidence(scores: Tensor, label: Tensor, defective: bool, bg_thr: float,
                            fg_thr: Union[float, Tensor]) -> float:
    """Per-image confidence in [0, 1] of a pseudo-label, for review order (lowest first).

    ``1`` for a defect-free image (its label is certain). For a defective image: the mean margin of its defect
    pixels above ``fg_thr`` (``(s - fg_thr) / (1 - fg_thr)``) times the share of decided pixels around the
    defect (``n_defect / (n_defect + n_ignored)``); ``0`` when no pixel reaches ``fg_thr`` (the CAM found
    nothing where the image label says there is a defect).

    Args:
        scores: (H, W) CAM score of the label's class at every pixel (max over the image's classes).
        label: (H, W) pseudo-label (0, k, 255).
        fg_thr: a number, or the (H, W) cut of each pixel's class (a floor per class, ``agreement_otsu``).
    """
    if not defective:
        return 1.0
    fg = (label != 0) & (label != IGNORE_INDEX)
    n_fg = int(fg.sum())
    if n_fg == 0:
        return 0.0
    n_ignored = int((label == IGNORE_INDEX).sum())
    cut = fg_thr[fg] if isinstance(fg_thr, Tensor) else torch.full_like(scores[fg], fg_thr)
    margin = ((scores[fg] - cut) / (1.0 - cut).clamp(min=1e-6)).clamp(0, 1).mean().item()
    return round(margin * n_fg / (n_fg + n_ignored), 4)


class _SkippingDataset(torch.utils.data.Dataset):
    """Dataset view that returns ``(index, None, error)`` for samples whose image cannot be loaded, so the
    generation loop can name and skip them (``skip_bad``) or stop with the file name."""

    def __init__(self, dataset, indices: List[int]) -> None:
        self.dataset, self.indices = dataset, indices

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int):
        idx = self.indices[i]
        try:  # only a file that does not decode is a bad image; any other error propagates
            read_image(self.dataset.get_data_info(idx)['img_path'])
        except ImageDecodeError as err:  # reported by the caller with the file name, never swallowed
            return idx, None, str(err)
        return idx, self.dataset[idx], None


def _collate(batch):
    return batch


def _read_rows(paths: List[str]) -> Dict[str, dict]:
    rows: Dict[str, dict] = {}
    for path in paths:
        if osp.isfile(path):
            with open(path, newline='', encoding='utf-8') as f:
                for row in csv.DictReader(f):
                    if row.get('image'):
                        rows[row['image']] = row
    return rows


def _is_finished(out_dir: str, row: Optional[dict], prior_columns: bool = False) -> bool:
    """A pseudo-label is finished when its CSV row exists (with ``prior_columns``: up to a readable ``prior_peak``, so
    a row cut short cannot hide a narrowed label from the class decision) and its PNG decodes at the recorded size."""
    if row is None:
        return False
    if prior_columns:
        if row.get('prior_peak') is None:
            return False
        if row.get('prior_class'):
            try:
                float(row['prior_peak'])
            except ValueError:
                return False
    path = osp.join(out_dir, row['image'])
    if not osp.isfile(path):
        return False
    try:
        shape = (int(row['height']), int(row['width']))
    except (TypeError, ValueError):  # a row cut short by an interruption
        return False
    label = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    return label is not None and label.shape == shape


def _label_fields(label: Tensor, scores: Tensor, defective: bool, bg_thr, fg_thr) -> dict:
    """The :data:`ROW_FIELDS` of one (H, W) label."""
    n_px = float(label.numel())
    return dict(confidence=pseudo_label_confidence(scores, label, defective, bg_thr, fg_thr),
                defect_fraction=round(int(((label != 0) & (label != IGNORE_INDEX)).sum()) / n_px, 6),
                ignored_fraction=round(int((label == IGNORE_INDEX).sum()) / n_px, 6))


def _settle_contrast_prior(prior: ContrastPrior, out_dir: str, rows: Dict[str, dict], classes: List[str],
                           recorded: Optional[dict] = None) -> dict:
    """The contrast prior's split-level step (rank 0, after every label is written): decide per class from the
    rows' peak ratios (:meth:`ContrastPrior.narrowed_classes`; a class an earlier run of this folder decided keeps
    that ``recorded`` decision, so labels on disk and manifest agree), put every label whose region's class is not
    narrowed back to its CAM version (``.unnarrowed/<stem>.png``, its row fields from ``<stem>.json``; the row's
    ``prior_class`` / ``prior_peak`` stay as measured) and drop the copies.

    Idempotent: a copy leaves only after its label is settled, so an interrupted run settles the rest on resume.
    ``rows``: the current split's rows only, updated in place. Returns {class name: dict(regions, median_peak,
    narrowed)} for every class with small regions, for the manifest.
    """
    ratios: Dict[int, List[float]] = {}
    for row in rows.values():
        if row.get('prior_class') in classes:
            ratios.setdefault(classes.index(row['prior_class']) + 1, []).append(float(row['prior_peak']))
    decision = {classes[k - 1]: v for k, v in prior.narrowed_classes(ratios).items()}
    decision.update({c: v for c, v in (recorded or {}).items() if c in classes})
    side = osp.join(out_dir, UNNARROWED_DIR)
    restore = [name for name, row in rows.items() if row.get('prior_class') in decision
               and not decision[row['prior_class']]['narrowed']
               and osp.isfile(osp.join(side, name[:-4] + '.json'))]
    for name in restore:
        with open(osp.join(side, name[:-4] + '.json')) as f:
            rows[name].update(json.load(f))
        copy = osp.join(side, name)
        if osp.isfile(copy):
            os.replace(copy, osp.join(out_dir, name))
    return decision


def _label_image(cams: Tensor, class_mask: Tensor, size: Tuple[int, int], rule: Optional[dict], bg_thr: float,
                 fg_thr: float, floors: Optional[Tensor] = None) -> Tuple[Tensor, Tensor, float, Union[float, Tensor]]:
    """One image's (1, K, h, w) maps at ``size`` -> ``(label (H, W), scores (H, W), bg, fg)``: the maps resized,
    thresholded by a per-image ``rule`` on the image's own score map (no GT) or by the fixed ``bg_thr`` /
    ``fg_thr`` (``rule=None``; a split-level rule's thresholds arrive here as fixed numbers).

    ``floors`` (K,) raise the per-image defect cut ``t`` per class (``agreement_otsu``): class k is labelled from
    ``t_k = max(t, floors[k])`` up; background stays below the rule's ``bg`` (a floor turns defect pixels into
    255, "don't know", never into background); ``fg`` is then the (H, W) map of each pixel's own ``t_k``."""
    full, scores, cls = score_map(cams, class_mask, size)
    bg_n, fg_n = bg_thr, fg_thr
    if rule is not None:
        bg_t, fg_t = image_thresholds(scores[None], rule, bg_thr, fg_thr)
        bg_n, fg_n = float(bg_t[0]), float(fg_t[0])
    if floors is None:
        return cams_to_pseudo_labels(full, class_mask, bg_n, fg_n)[0], scores, bg_n, fg_n
    fg_k = floors.to(full.device, torch.float32).clamp(min=fg_n)[None]  # (1, K)
    return cams_to_pseudo_labels(full, class_mask, bg_n, fg_k)[0], scores, bg_n, fg_k[0][cls - 1]


def _defective_batches(inferencer: CAMInferencer, dataset, batch_size: int, num_workers: int, progress: bool,
                       desc: str):
    """Yield the CAM batches of this rank's share of the defective images of ``dataset`` (images that do not load
    are left out here: the generation pass names or skips them)."""
    rank, world_size = get_dist_info()
    indices = [i for i in range(rank, len(dataset), world_size) if len(dataset.get_data_info(i)['gt_label'])]
    loader = DataLoader(_SkippingDataset(dataset, indices), batch_size=batch_size, shuffle=False,
                        num_workers=num_workers, collate_fn=_collate)
    if progress and rank == 0:
        from tqdm import tqdm
        loader = tqdm(loader, desc=desc, unit='batch')
    for batch in loader:
        samples = [sample for _, sample, error in batch if error is None]
        if samples:
            yield inferencer(pseudo_collate(samples))


def class_floor_thresholds(inferencer: CAMInferencer, dataset, rule: dict, batch_size: int, num_workers: int = 0,
                           progress: bool = True) -> Dict[str, Dict[str, Optional[float]]]:
    """The per-class floors of ``agreement_otsu`` (:mod:`mmwsss.cam.threshold_rules`) from every defective image
    of ``dataset``: ``{'class_floors': {class: floor}, 'agreement_iou': {class: pooled IoU at that floor}}``.

    One CAM pass: each image's refined and raw maps at the image's own size, their per-image Otsu cuts, and
    how their class regions agree at every floor of :data:`FLOOR_GRID` (:func:`agreement_counts`); the counts
    are pooled over the split (gathered across ranks: every rank gets the same floors). Images that do not
    load are left out. A setting without a raw map (no refinement: ``inferencer.labels_by_agreement`` is False)
    has nothing to agree with: every floor is 0 (per-image Otsu) and the IoU None, without a pass.
    """
    _, _, bins = parse_threshold_rule(rule)
    classes = list(dataset.metainfo['classes'])
    if not inferencer.labels_by_agreement:
        return dict(class_floors={c: 0.0 for c in classes}, agreement_iou={c: None for c in classes})
    floors = torch.tensor(FLOOR_GRID)
    counts = torch.zeros(len(classes), len(FLOOR_GRID), 2, dtype=torch.long)
    for out in _defective_batches(inferencer, dataset, batch_size, num_workers, progress,
                                  f'agreement_otsu floors ({inferencer.name})'):
        for n, s in enumerate(out.data_samples):
            size, mask = tuple(s.ori_shape), out.class_mask[n:n + 1]
            _, score, label = score_map(out.cams[n:n + 1], mask, size)
            _, raw_score, raw_label = score_map(out.raw_cams[n:n + 1], mask, size)
            counts += agreement_counts(score[None], label[None], otsu_thresholds(score[None], bins), raw_score[None],
                                       raw_label[None], otsu_thresholds(raw_score[None], bins), len(classes),
                                       floors).cpu()
    counts = sum(all_gather_object(counts))
    index, iou = best_agreement(counts)
    return dict(class_floors={c: FLOOR_GRID[int(i)] for c, i in zip(classes, index)},
                agreement_iou={c: round(float(v), 4) for c, v in zip(classes, iou)})


def split_rule_thresholds(inferencer: CAMInferencer, dataset, rule: dict, batch_size: int, num_workers: int = 0,
                          progress: bool = True) -> Dict[str, List[float]]:
    """The ``[bg, fg]`` thresholds of a split-level ``rule`` (``median_otsu`` / ``pooled_otsu``) from every
    defective image of ``dataset`` (a defect-free image's labels need no threshold).

    One CAM pass: each image's score map at its own size (as generation thresholds it) -> a ``bins``-bin
    histogram; ``fg = split_threshold(type, histograms)``, ``bg = bg_ratio * fg``. Computed for the map labels
    are drawn from (``'cams'``) and, when the setting labels by agreement, for the raw map on its own
    (``'raw_cams'``): each map gets the cut of its own score distribution. Distributed: each rank reads its
    share, the histograms are gathered, every rank gets the same numbers. Images that do not load are left out
    here (the generation pass names or skips them).
    """
    kind, bg_ratio, bins = parse_threshold_rule(rule)
    hists: Dict[str, List[Tensor]] = dict(cams=[], raw_cams=[])
    for out in _defective_batches(inferencer, dataset, batch_size, num_workers, progress,
                                  f'{kind} thresholds ({inferencer.name})'):
        for key, maps in (('cams', out.cams), ('raw_cams', out.raw_cams)):
            if maps is None:
                continue
            for n, s in enumerate(out.data_samples):
                score = score_map(maps[n:n + 1], out.class_mask[n:n + 1], tuple(s.ori_shape))[1]
                hists[key].append(score_histograms(score[None], bins).cpu())
    mine = {k: torch.cat(v) if v else torch.zeros(0, bins) for k, v in hists.items()}
    gathered = all_gather_object(mine)
    thresholds = {}
    for key in mine:
        hist = torch.cat([g[key] for g in gathered])
        if len(hist) or key == 'cams':
            fg = round(split_threshold(kind, hist), 6) if len(hist) else 1.0
            thresholds[key] = [round(bg_ratio * fg, 6), fg]
    return thresholds


def _recorded(manifest_path: str, key: str):
    """What an earlier run of this folder recorded under ``key`` in its manifest (split thresholds, the contrast
    prior's classes: a resume keeps its labels consistent with them), or None."""
    if not osp.isfile(manifest_path):
        return None
    with open(manifest_path) as f:
        return json.load(f).get(key)


def _generate_pseudo_labels(cfg: Config,
                            checkpoint: Optional[str],
                            out_dir: str,
                            method: Optional[str] = None,
                            bg_thr: Optional[float] = None,
                            fg_thr: Optional[float] = None,
                            batch_size: Optional[int] = None,
                            device: str = 'cpu',
                            resume: bool = True,
                            progress: bool = True,
                            model=None,
                            skip_bad: bool = False) -> Dict:
    """Write ``<out_dir>/<stem>.png`` for every image of ``cfg.cam_dataloader``.

    Labels: 0 background, k defect class k, 255 ignore (between ``bg_thr`` and ``fg_thr``); a defect-free
    image is all background and classes absent from the image label never appear. CAM settings default to
    ``cfg.cam``; ``cam.threshold_rule`` replaces the fixed numbers by a GT-free rule: per image (``otsu``), or
    per split (``median_otsu``: one pass over the defective images first, :func:`split_rule_thresholds`; the
    numbers go to the manifest as ``split_thresholds`` and a resumed run reuses them), or per image with a
    floor per class (``agreement_otsu``: the floors come from that first pass, :func:`class_floor_thresholds`,
    and are recorded the same way). ``cam.contrast_prior=dict(max_area=0.03, kernel=31, quantile=0.99,
    halo='background', min_peak=2.0)`` narrows small defect regions to the pixels that stand out from the image's own
    surface (:class:`~mmwsss.cam.contrast_prior.ContrastPrior`, on the image at its own size), for the classes whose
    regions stand out across the split: each narrowed label's CAM version waits in ``.unnarrowed/`` until every
    label is written, then the classes that do not stand out get theirs back (manifest ``contrast_prior_classes``;
    ``confidence.csv`` columns ``prior_class``, ``prior_peak``).

    Distributed (``torchrun`` / ``--launcher pytorch``, mmengine dist initialized): rank ``r`` of ``W`` takes
    the images ``r, r + W, ...`` and writes only those files; rank 0 merges the per-rank CSVs and writes the
    manifest. The result is the same set of files as one process writes.

    Resumable and idempotent: every file is written atomically; with ``resume`` an image whose PNG decodes at
    its recorded size and has its ``confidence.csv`` row is kept; a folder made with other settings (method,
    thresholds, layers, checkpoint hash, classes) is refused instead of mixed.

    Outputs next to the PNGs: ``manifest.json`` (config, checkpoint + sha256, method, thresholds, layers,
    settings, counts, skipped files) and ``confidence.csv`` (one row per image, see
    :func:`pseudo_label_confidence`; review the lowest first).

    Args:
        skip_bad: leave images that cannot be loaded out (listed in the manifest) instead of stopping.

    Returns:
        the manifest dict (on every rank).
    """
    rank, world_size = get_dist_info()
    cam_cfg = dict(cfg.get('cam', {}))
    method = method or cam_cfg.get('method', 'gradcam')
    bg_thr = cam_cfg.get('bg_thr', 0.3) if bg_thr is None else bg_thr
    fg_thr = cam_cfg.get('fg_thr', 0.5) if fg_thr is None else fg_thr
    if not 0.0 <= bg_thr <= fg_thr <= 1.0:
        raise ValueError(f'need 0 <= bg_thr <= fg_thr <= 1, got bg_thr={bg_thr}, fg_thr={fg_thr}')
    if 'cam_dataloader' not in cfg:
        raise KeyError('the classifier config needs a `cam_dataloader` (training split, test pipeline)')
    if checkpoint is not None and not osp.isfile(checkpoint):
        raise FileNotFoundError(f'classifier checkpoint not found: {checkpoint}')
    loader_cfg = cfg.cam_dataloader
    dataset = DATASETS.build(loader_cfg.dataset)
    check_output_dir(out_dir, loader_cfg.dataset.get('data_root', ''))
    classes = list(dataset.metainfo['classes'])
    method_type, layers, kwargs = cam_settings(cfg, method)
    rule = cam_cfg.get('threshold_rule')
    if rule is not None:  # validated before any file is written
        parse_threshold_rule(rule)
    split_rule = is_split_rule(rule)
    prior_cfg = cam_cfg.get('contrast_prior')
    prior = None if prior_cfg is None else ContrastPrior(**prior_cfg)  # validated before any file is written
    neck = cfg.get('model', {}).get('neck')  # RA-CAM fuses its layer maps with the classifier's neck
    setting = dict(method=method, bg_thr=bg_thr, fg_thr=fg_thr, threshold_rule=rule,
                   contrast_prior=None if prior is None else prior.settings(), target_layers=layers,
                   settings=kwargs, fusion=json.loads(json.dumps(neck)) if method_type == 'racam' and neck else None,
                   checkpoint_sha256=file_sha256(checkpoint) if checkpoint else None, classes=classes)
    manifest_path = osp.join(out_dir, 'manifest.json')
    check_settings_manifest(out_dir, setting, resume)
    split_thresholds = _recorded(manifest_path, 'split_thresholds') if split_rule and resume else None
    prior_classes = _recorded(manifest_path, 'contrast_prior_classes') if prior is not None and resume else None
    barrier()  # every rank has read what an earlier run recorded before rank 0 rewrites the manifest
    if prior_classes:  # the labels on disk follow it: kept through every later rewrite of the manifest
        setting = dict(setting, contrast_prior_classes=prior_classes)
    if rank == 0:  # written before the first label, so an interrupted run is checked on resume too
        atomic_write_text(manifest_path, json.dumps(dict(setting, status='incomplete'), indent=2))
    barrier()
    parts_dir = osp.join(out_dir, '.parts')
    os.makedirs(parts_dir, exist_ok=True)
    side_dir = osp.join(out_dir, UNNARROWED_DIR)
    if rank == 0 and not resume and osp.isdir(side_dir):  # copies of an earlier run's labels
        shutil.rmtree(side_dir)
    barrier()
    part_path = osp.join(parts_dir, f'rank{rank}.csv')
    rows = _read_rows([osp.join(out_dir, CONFIDENCE_CSV)] + sorted(
        osp.join(parts_dir, f) for f in os.listdir(parts_dir) if f.endswith('.csv'))) if resume else {}
    mine = list(range(rank, len(dataset), world_size))
    todo = [i for i in mine if not _is_finished(
        out_dir, rows.get(pseudo_label_name(dataset.get_data_info(i)['img_path'])), prior_columns=prior is not None)]

    if model is None:
        model = load_classifier(cfg, checkpoint, device)
    check_checkpoint_classes(model, classes, checkpoint)
    inferencer = CAMInferencer(model, cfg, method)
    batch_size = batch_size or loader_cfg.get('batch_size', 16)
    floor_rule = split_rule and parse_threshold_rule(rule)[0] in CLASS_FLOOR_RULES
    if split_rule and split_thresholds is None:  # one pass over the defective images before the first label
        first_pass = class_floor_thresholds if floor_rule else split_rule_thresholds
        split_thresholds = first_pass(inferencer, dataset, rule, batch_size, loader_cfg.get('num_workers', 0), progress)
    if split_rule:
        setting_out = dict(setting, split_thresholds=split_thresholds)
        if rank == 0:
            atomic_write_text(manifest_path, json.dumps(dict(setting_out, status='incomplete'), indent=2))
        barrier()
        setting = setting_out
    thr = split_thresholds or {}
    label_rule = None if split_rule else rule
    floors = None
    if floor_rule:  # per-image Otsu, each class cut no lower than its floor
        label_rule = dict(rule, type='otsu')
        floors = torch.tensor([thr['class_floors'][c] for c in classes])
    bg_thr, fg_thr = thr.get('cams', (bg_thr, fg_thr))
    raw_bg, raw_fg = thr.get('raw_cams', (bg_thr, fg_thr))
    loader = DataLoader(_SkippingDataset(dataset, todo), batch_size=batch_size,
                        shuffle=False, num_workers=loader_cfg.get('num_workers', 0), collate_fn=_collate)
    if progress and rank == 0:
        from tqdm import tqdm
        loader = tqdm(loader, desc=f'pseudo-labels ({method}{f", {world_size} ranks" if world_size > 1 else ""})',
                      unit='batch')
    bad: List[dict] = []
    written = 0
    new_part = not osp.isfile(part_path) or not resume
    with open(part_path, 'w' if not resume else 'a', newline='', encoding='utf-8') as part:
        writer = csv.DictWriter(part, fieldnames=CSV_FIELDS)
        if new_part:
            writer.writeheader()
        for batch in loader:
            samples = []
            for idx, sample, error in batch:
                if error is None:
                    samples.append(sample)
                    continue
                img_path = dataset.get_data_info(idx)['img_path']
                if not skip_bad:
                    raise DatasetLayoutError(f'cannot load {img_path} ({error}); fix or remove the file, or pass '
                                             '--skip-bad to leave it out (it is then listed in manifest.json)')
                bad.append(dict(file=img_path, reason=error))
            if not samples:
                continue
            batch = inferencer(pseudo_collate(samples))
            cams, class_mask, samples = batch.cams, batch.class_mask, batch.data_samples
            for n, s in enumerate(samples):
                label, scores, bg_n, fg_n = _label_image(cams[n:n + 1], class_mask[n:n + 1], tuple(s.ori_shape),
                                                         label_rule, bg_thr, fg_thr, floors)
                if batch.raw_cams is not None:  # refine.labels='agree': keep what the raw map's labels agree with
                    label = agreement_labels(label, _label_image(batch.raw_cams[n:n + 1], class_mask[n:n + 1],
                                                                 tuple(s.ori_shape), label_rule, raw_bg, raw_fg,
                                                                 floors)[0])
                name = pseudo_label_name(s.img_path)
                defective = bool(class_mask[n].any())
                prior_row = dict(prior_class='', prior_peak='')
                copy = osp.join(side_dir, name)
                narrowed = label
                if prior is not None and prior.applies(label):  # small region: keep what stands out
                    gray = torch.from_numpy(read_image(s.img_path, cv2.IMREAD_GRAYSCALE)).to(label.device)
                    narrowed, region_class, ratio = prior.narrow(label, gray)
                    prior_row = dict(prior_class=classes[region_class - 1], prior_peak=round(ratio, 4))
                if narrowed is not label:  # the CAM version waits for the split's decision on its class
                    os.makedirs(side_dir, exist_ok=True)
                    atomic_write_png(copy, label.cpu().numpy())
                    atomic_write_text(copy[:-4] + '.json', json.dumps(
                        _label_fields(label, scores, defective, bg_n, fg_n)))
                    label = narrowed
                elif prior is not None and osp.isfile(copy[:-4] + '.json'):  # an interrupted run's stale copy
                    os.remove(copy[:-4] + '.json')
                atomic_write_png(osp.join(out_dir, name), label.cpu().numpy())
                writer.writerow(dict(
                    image=name, img_path=s.img_path, height=label.shape[0], width=label.shape[1],
                    classes='+'.join(classes[k] for k in s.gt_label.tolist()),
                    **_label_fields(label, scores, defective, bg_n, fg_n), **prior_row))
                part.flush()
                written += 1
    counts = all_gather_object(dict(written=written, bad=bad))
    barrier()
    manifest = dict(setting, status='complete', checkpoint=osp.abspath(checkpoint) if checkpoint else None,
                    config=cfg.filename, images=len(dataset), written=sum(c['written'] for c in counts),
                    skipped=[b for c in counts for b in c['bad']], world_size=world_size,
                    confidence_csv=CONFIDENCE_CSV)
    if rank == 0:
        part_files = sorted(osp.join(parts_dir, f) for f in os.listdir(parts_dir) if f.endswith('.csv'))
        merged = _read_rows([osp.join(out_dir, CONFIDENCE_CSV)] + part_files)
        names = [pseudo_label_name(dataset.get_data_info(i)['img_path']) for i in range(len(dataset))]
        if prior is not None:  # the split's rows only (the same row objects: restored fields reach the CSV)
            manifest['contrast_prior_classes'] = _settle_contrast_prior(
                prior, out_dir, {n: merged[n] for n in names if n in merged}, classes, prior_classes)
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, lineterminator='\n')
        writer.writeheader()
        for name in names:
            if name in merged:
                writer.writerow({k: merged[name].get(k, '') for k in CSV_FIELDS})
        atomic_write_text(osp.join(out_dir, CONFIDENCE_CSV), out.getvalue())
        atomic_write_text(manifest_path, json.dumps(manifest, indent=2))
        for f in part_files:
            os.remove(f)
        os.rmdir(parts_dir)
        if osp.isdir(side_dir):
            shutil.rmtree(side_dir)
    barrier()
    if rank != 0 and prior is not None:  # rank 0 decided the classes: every rank returns the manifest it wrote
        with open(manifest_path) as f:
            manifest = json.load(f)
    return manifest
