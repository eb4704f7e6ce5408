"""Convert a folder-per-class tree (your own OK / NG data) into the mmwsss layout.

Source::

    ROOT/
      good/        *.png | *.jpg | *.bmp | *.tif ...   defect-free images (``ok=('good',)``; several allowed)
      scratch/     ...                                  one folder per defect type; class names = folder names
      dent/        ...                                  (sub-folders are searched recursively)
    MASKS/                                              optional, for evaluation only
      scratch/<stem>.png                                matched by class folder and file stem

Output: ``DATA_ROOT/{img_dir,ann_dir,image_labels}`` (see :mod:`mmwsss.datasets.layout`) plus
``dataset_info.json`` (classes, palette, counts) and ``conversion.json`` (options, per-file notes, skipped
files). Class ids follow the sorted folder names (or ``classes``); ``good`` images have no label.

Split: per class folder, the sorted file list is shuffled with ``numpy.random.default_rng(seed)`` and cut at
``ratios``. When masks cover only part of the defective images, val + test of a class are drawn from its masked
images (up to the class's val + test quota, so a class whose images are all masked still trains on the rest)
and the others go to train: masks are for evaluation, image labels for training.

Growing trees: a re-run into the same ``--out`` with the same options keeps every earlier image in its split
and splits only the new ones (per class, by the same ratios); outputs of images gone from the source are
removed (listed in the report). A new or removed class folder would renumber the classes and is refused:
convert into a new ``--out`` (a new data set version).

Names: output files are ``<folder>__<sub-path>`` (so ``0001.jpg`` in every class folder is fine); two sources
that would map to the same name get a short hash of their path appended. Mask folders match class folders
case-insensitively; mask folders that match no class are reported. Folder symlink loops are refused.
EXIF orientation is applied at conversion (the output is upright, so image and mask agree in every loader).

Guarantees: the source tree is only read; every output file is written atomically; a re-run with the same
options skips finished files after verifying that they decode (``resume``) and a run with other options is
refused instead of mixing two splits in one folder.
"""
import json
import os
import os.path as osp
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from mmwsss.utils import atomic_write_png, atomic_write_text, file_sha256
from .layout import (ANN_DIR, IMG_DIR, SPLITS, DatasetLayoutError, ImageDecodeError, format_label_line, labels_file,
                     read_image, read_image_labels)
from .layout_writer import apply_orientation, check_options, check_paths, place_image
from .mtd_converter import split_counts

IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp', '.pgm', '.ppm')
DEFAULT_PALETTE = [[0, 0, 0], [230, 25, 75], [60, 180, 75], [255, 225, 25], [0, 130, 200], [245, 130, 48],
                   [145, 30, 180], [70, 240, 240], [240, 50, 230], [210, 245, 60], [250, 190, 212],
                   [0, 128, 128], [220, 190, 255], [170, 110, 40], [128, 0, 0], [170, 255, 195]]



@dataclass
class SourceImage:
    """One output image: its source file(s) as ``(folder, path inside the folder, class id)`` and its
    class ids (empty = defect-free); ``masks`` maps a class id to its mask file."""
    sources: List[Tuple[str, str, int]]
    masks: Dict[int, str] = field(default_factory=dict)
    suffix: str = ''  # set by :func:`scan_tree` when two sources would share one output name

    @property
    def folder(self) -> str:
        return self.sources[0][0]

    @property
    def labels(self) -> List[int]:
        return sorted({cls for _, _, cls in self.sources if cls})

    @property
    def out_stem(self) -> str:
        folder, rel, _ = self.sources[0]
        return f"{folder}__{osp.splitext(rel)[0].replace(os.sep, '__')}{self.suffix}"


def palette_for(num_classes: int) -> List[List[int]]:
    """``num_classes`` colours (background black first), deterministic beyond the fixed list."""
    rng = np.random.default_rng(0)
    extra = rng.integers(0, 256, size=(max(0, num_classes - len(DEFAULT_PALETTE)), 3)).tolist()
    return (DEFAULT_PALETTE + extra)[:num_classes]


def list_images(folder: str) -> List[str]:
    """Image files under ``folder`` (recursive, sorted, folder symlinks followed), as paths relative to it.

    Raises:
        DatasetLayoutError: a folder symlink that points back to one of its own parents (a loop).
    """
    out = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
        dirnames.sort()
        here = osp.realpath(dirpath)
        for d in dirnames:
            target = osp.realpath(osp.join(dirpath, d))
            if here == target or here.startswith(target + os.sep):
                raise DatasetLayoutError(f'folder symlink loop: {osp.join(dirpath, d)} points back to {target}; '
                                         'remove the link or --ignore its class folder')
        out += [osp.relpath(osp.join(dirpath, f), folder) for f in sorted(filenames)
                if f.lower().endswith(IMAGE_EXTENSIONS) and not f.startswith('.')]
    return out


def _resolve_name_collisions(images: List['SourceImage']) -> None:
    """Give sources that map to one output stem (``good/lot1/n.jpg`` and ``good/lot1__n.jpg``) a suffix made
    of a hash of their source path, so that no output overwrites another."""
    import hashlib
    by_stem: Dict[str, List[SourceImage]] = {}
    for im in images:
        by_stem.setdefault(im.out_stem.lower(), []).append(im)
    for group in by_stem.values():
        if len(group) > 1:
            for im in group:
                folder, rel, _ = im.sources[0]
                im.suffix = '-' + hashlib.sha1(f'{folder}/{rel}'.encode()).hexdigest()[:8]


def scan_tree(root: str, ok: Sequence[str], classes: Optional[Sequence[str]] = None,
              ignore: Sequence[str] = (), multi_label: bool = False) -> Tuple[List[str], List[SourceImage]]:
    """Find the class folders of ``root`` and their images.

    Returns:
        ``(defect class names, images)``; class id ``k`` (1-based) is ``names[k - 1]``.
    Raises:
        DatasetLayoutError: missing root or OK folder, no defect folder, an empty class folder, a file name
        in two class folders (unless ``multi_label`` and identical defect images: one image, several labels).
    """
    if not osp.isdir(root):
        raise DatasetLayoutError(f'source folder not found: {root}')
    if isinstance(ok, str):
        ok = [ok]
    present = sorted(d for d in os.listdir(root) if osp.isdir(osp.join(root, d)) and not d.startswith('.'))
    unknown_ignore = [d for d in ignore if d not in present]
    if unknown_ignore:
        import difflib
        near = difflib.get_close_matches(unknown_ignore[0], present, n=1)
        raise DatasetLayoutError(f'--ignore {unknown_ignore[0]}: no such folder in {root}'
                                 f'{f"; did you mean {near[0]}?" if near else ""} (folders: {present})')
    folders = [d for d in present if d not in ignore]
    missing_ok = [d for d in ok if d not in folders]
    if missing_ok:
        raise DatasetLayoutError(
            f'defect-free folder(s) {missing_ok} not found in {root} (folders: {folders}); pass the right --ok')
    defect_folders = [d for d in folders if d not in ok]
    if classes:
        unknown = [c for c in classes if c not in defect_folders]
        extra = [d for d in defect_folders if d not in classes]
        if unknown or extra or len(set(classes)) != len(classes):
            raise DatasetLayoutError(
                f'--classes {list(classes)} must name every defect folder of {root} exactly once: '
                f'not found {unknown}, not listed {extra} (use --ignore for folders to leave out)')
        defect_folders = list(classes)
    if not defect_folders:
        raise DatasetLayoutError(f'no defect folder in {root}: besides {list(ok)} at least one folder of '
                                 'defective images (NG, or one per defect type) is needed')
    images: Dict[Tuple[str, str], SourceImage] = {}
    by_name: Dict[str, List[Tuple[str, str]]] = {}
    for folder in list(ok) + defect_folders:
        rels = list_images(osp.join(root, folder))
        if not rels:
            raise DatasetLayoutError(
                f'class folder {osp.join(root, folder)} holds no images ({" ".join(IMAGE_EXTENSIONS)}): add '
                f'images, remove the folder or pass --ignore {folder}')
        cls = 0 if folder in ok else defect_folders.index(folder) + 1
        for rel in rels:
            images[(folder, rel)] = SourceImage([(folder, rel, cls)])
            by_name.setdefault(osp.basename(rel), []).append((folder, rel))
    for name, hits in by_name.items():
        hit_folders = sorted({f for f, _ in hits})
        if len(hit_folders) < 2:
            continue
        paths = [osp.join(root, f, r) for f, r in hits]
        if len({file_sha256(p) for p in paths}) == len(paths):
            continue  # different images that share a file name (camera exports): output names carry the folder
        in_ok = [f for f in hit_folders if f in ok]
        if in_ok:
            raise DatasetLayoutError(
                f'the same image {name!r} is filed as defect-free ({in_ok}) and as defective: {paths}. '
                'Remove it from one of the folders.')
        if not multi_label:
            raise DatasetLayoutError(
                f'the same image {name!r} is in several defect folders: {paths}. Pass --multi-label to treat it '
                'as one image with several defect types, or remove the copies.')
        first = images[hits[0]]
        for key in hits[1:]:
            first.sources += images.pop(key).sources
    out = list(images.values())
    _resolve_name_collisions(out)
    return defect_folders, out


def attach_masks(images: List[SourceImage], mask_root: str) -> Dict[str, List[str]]:
    """Match ``MASKS/<folder>/<same sub-path and stem>.<ext>`` to every source of every image; folder and file
    names match case-insensitively (``Crack/`` masks ``crack/`` images).

    Returns:
        ``unmatched_folders`` (mask folders that name no class folder) and ``unmatched_masks`` (mask files with
        no image), both reported by the converter.
    """
    if not osp.isdir(mask_root):
        raise DatasetLayoutError(f'mask folder not found: {mask_root}')
    index: Dict[Tuple[str, str], str] = {}
    for folder in sorted(os.listdir(mask_root)):
        if osp.isdir(osp.join(mask_root, folder)):
            for rel in list_images(osp.join(mask_root, folder)):
                key = (folder.lower(), osp.splitext(rel)[0].lower())
                if key in index:
                    raise DatasetLayoutError(
                        f'two masks for one image: {index[key]} and {osp.join(mask_root, folder, rel)}')
                index[key] = osp.join(mask_root, folder, rel)
    used = set()
    for im in images:
        for folder, rel, cls in im.sources:
            key = (folder.lower(), osp.splitext(rel)[0].lower())
            if key in index:
                im.masks[cls] = index[key]
                used.add(key)
    class_folders = {folder.lower() for im in images for folder, _, _ in im.sources}
    unmatched = sorted({osp.relpath(p, mask_root) for k, p in index.items() if k not in used})
    return dict(unmatched_folders=sorted({p.split(os.sep)[0] for p in unmatched
                                          if p.split(os.sep)[0].lower() not in class_folders}),
                unmatched_masks=unmatched)


def read_binary_mask(path: str, shape: Tuple[int, int], mask_thr: Optional[int], orientation: int = 1) -> np.ndarray:
    """(H, W) bool defect mask of a source mask file; validates size and values.

    Without ``mask_thr`` the mask must be binary (values in {0, 1} or {0, 255}); with it, ``>= mask_thr``
    is defect (anti-aliased masks such as MTD's). ``orientation``: the image's EXIF orientation, applied to
    the mask too (it is drawn on the image's stored pixels) unless the mask already has the upright shape of
    a 90-degree rotation.
    """
    mask = read_image(path, cv2.IMREAD_UNCHANGED)
    if mask.ndim == 3:
        if not (mask[..., :3] == mask[..., :1]).all():
            raise DatasetLayoutError(f'colour mask {path}: masks must be single-channel (0 = background)')
        mask = mask[..., 0]
    if orientation != 1 and not (orientation >= 5 and mask.shape == tuple(shape)):
        mask = apply_orientation(mask, orientation)
    if mask.shape != tuple(shape):
        raise DatasetLayoutError(
            f'mask size {mask.shape[1]}x{mask.shape[0]} differs from its image ({shape[1]}x{shape[0]}): {path}; '
            'masks must be pixel-aligned with their image')
    if mask_thr is not None:
        return mask >= mask_thr
    values = set(np.unique(mask).tolist())
    if not (values <= {0, 1} or values <= {0, 255}):
        shown = sorted(values)[:8]
        raise DatasetLayoutError(
            f'mask {path} holds values {shown}{"..." if len(values) > 8 else ""}: binary masks (0/255 or 0/1) '
            'expected; pass --mask-thr 128 to binarize anti-aliased masks')
    return mask > 0


def check_ratios(ratios: Sequence[float]) -> None:
    if len(ratios) != 3 or any(r < 0 for r in ratios) or abs(sum(ratios) - 1) > 1e-6:
        raise ValueError(f'--ratios must be three non-negative numbers (train val test) summing to 1, got '
                         f'{list(ratios)} (sum {sum(ratios):g}); e.g. --ratios 0.7 0.1 0.2')


def _split_group(group: List[SourceImage], ratios: Sequence[float], seed: int,
                 partial: bool) -> Dict[str, List[SourceImage]]:
    """Split one class folder's (sorted) images; with ``partial`` masks val + test come from the masked ones,
    at most the class's val + test quota of them (the rest train)."""
    out: Dict[str, List[SourceImage]] = {s: [] for s in SPLITS}
    n_train, n_val, n_test = split_counts(len(group), ratios)
    if partial and group and group[0].labels:
        with_mask = [im for im in group if im.masks]
        order = np.random.default_rng(seed).permutation(len(with_mask))
        chosen = [with_mask[i] for i in order[:n_val + n_test]]
        eval_ratio = ratios[1] / max(ratios[1] + ratios[2], 1e-9)
        n_eval_val = int(round(len(chosen) * eval_ratio))
        out['val'], out['test'] = chosen[:n_eval_val], chosen[n_eval_val:]
        taken = {id(im) for im in chosen}
        out['train'] = [im for im in group if id(im) not in taken]
        return out
    order = np.random.default_rng(seed).permutation(len(group))
    for rank, idx in enumerate(order):
        split = 'train' if rank < n_train else 'val' if rank < n_train + n_val else 'test'
        out[split].append(group[idx])
    return out


def assign_splits(images: List[SourceImage], ratios: Sequence[float], seed: int,
                  previous: Optional[Dict[str, str]] = None) -> Dict[str, List[SourceImage]]:
    """Stratified seeded split by (first) class folder; see the module docstring for partial masks.

    Args:
        previous: output stem -> split of an earlier conversion into the same folder: those images keep their
            split, only the others are split (per class, by ``ratios``).
    """
    check_ratios(ratios)
    previous = previous or {}
    defective = [im for im in images if im.labels]
    masked = sum(bool(im.masks) for im in defective)
    partial = 0 < masked < len(defective)
    groups: Dict[str, List[SourceImage]] = {}
    for im in images:
        groups.setdefault(im.folder, []).append(im)
    splits: Dict[str, List[SourceImage]] = {s: [] for s in SPLITS}
    for folder in sorted(groups):
        group = sorted(groups[folder], key=lambda im: im.sources[0][1])
        new = [im for im in group if im.out_stem not in previous]
        for im in group:
            if im.out_stem in previous:
                splits[previous[im.out_stem]].append(im)
        for split, members in _split_group(new, ratios, seed, partial).items():
            splits[split] += members
    return {s: sorted(members, key=lambda im: im.out_stem) for s, members in splits.items()}


def previous_conversion(out_dir: str, class_names: Sequence[str]) -> Dict[str, str]:
    """Output stem -> split of an earlier conversion in ``out_dir`` (empty if none). Refuses a tree whose class
    folders changed (class ids would be renumbered)."""
    info_path = osp.join(out_dir, 'dataset_info.json')
    if not osp.isfile(info_path):
        return {}
    with open(info_path) as f:
        before = json.load(f).get('classes', [])
    if list(before) != list(class_names):
        added = [c for c in class_names if c not in before]
        gone = [c for c in before if c not in class_names]
        raise DatasetLayoutError(
            f'{out_dir} holds a conversion with classes {before[1:]}; the tree now has {list(class_names[1:])} '
            f'(new {added}, gone {gone}): class ids would change. Convert into a new --out (a new data set '
            'version) and train from there')
    out = {}
    for split in SPLITS:
        if osp.isfile(labels_file(out_dir, split)):
            out.update({osp.splitext(name)[0]: split for name, _ in read_image_labels(labels_file(out_dir, split))})
    return out


def check_split_balance(counts: Dict[str, Dict[str, int]], ratios: Sequence[float]) -> None:
    """Every split needs images; train and test need defect-free and defective ones."""
    for split in SPLITS:
        c = counts[split]
        if c['defect_free'] + c['defective'] == 0:
            raise DatasetLayoutError(f'split {split!r} would be empty with ratios {list(ratios)}: add images or '
                                     'change --ratios')
        for kind in ('defect_free', 'defective'):
            if split in ('train', 'test') and c[kind] == 0:
                raise DatasetLayoutError(
                    f'split {split!r} would hold no {kind.replace("_", "-")} images ({counts}); the weakly '
                    f'supervised pipeline needs both in train and test: add images or change --ratios')


def _remove_stale_outputs(out_dir: str, keep: Dict[str, set]) -> List[str]:
    """Delete images / masks an earlier conversion into ``out_dir`` wrote for sources that are gone (called only
    when ``out_dir`` holds a conversion.json of the same options); returns their paths."""
    removed = []
    for split in SPLITS:
        for sub in (IMG_DIR, ANN_DIR):
            folder = osp.join(out_dir, sub, split)
            if not osp.isdir(folder):
                continue
            for name in sorted(os.listdir(folder)):
                if not name.startswith('.') and osp.splitext(name)[0] not in keep[split]:
                    os.remove(osp.join(folder, name))
                    removed.append(osp.join(sub, split, name))
    return removed


def convert_folders(root: str,
                    out_dir: str,
                    ok: Sequence[str] = ('OK', ),
                    classes: Optional[Sequence[str]] = None,
                    ignore: Sequence[str] = (),
                    mask_root: Optional[str] = None,
                    mask_thr: Optional[int] = None,
                    seed: int = 0,
                    ratios: Sequence[float] = (0.7, 0.1, 0.2),
                    multi_label: bool = False,
                    skip_bad: bool = False,
                    resume: bool = True,
                    progress: bool = False) -> Dict:
    """Convert the tree at ``root`` into ``out_dir`` (see the module docstring).

    Args:
        ok: names of the defect-free folder(s).
        classes: defect folder order (class ids 1..K); default sorted folder names.
        ignore: folders of ``root`` to leave out.
        mask_root: optional mask tree ``MASKS/<folder>/<stem>.<ext>``; ``mask_thr`` binarizes non-binary masks.
        skip_bad: leave unreadable / zero-byte images out and list them in the report instead of failing.
        resume: keep finished output files that decode; ``False`` rewrites them.

    Returns:
        the report also written to ``conversion.json``: classes, per-split counts, skipped and normalized
        files, how many files were written and reused.
    """
    check_paths(root, out_dir)
    root, out_dir = osp.abspath(root), osp.realpath(out_dir)
    if mask_thr is not None and not 0 < mask_thr <= 65535:
        raise ValueError(f'--mask-thr must be in 1..65535 (pixels >= it are defect; e.g. 128 for anti-aliased '
                         f'0..255 masks), got {mask_thr}')
    check_ratios(ratios)
    options = dict(root=root, ok=list(ok), classes=list(classes or []), ignore=list(ignore),
                   mask_root=osp.abspath(mask_root) if mask_root else None, mask_thr=mask_thr, seed=seed,
                   ratios=[float(r) for r in ratios], multi_label=multi_label)
    check_options(out_dir, options)
    converted_before = osp.isfile(osp.join(out_dir, 'conversion.json'))  # only then may outputs be removed
    defect_folders, images = scan_tree(root, ok, classes, ignore, multi_label)
    class_names = ['background'] + list(defect_folders)
    mask_report = attach_masks(images, mask_root) if mask_root else {}
    previous = previous_conversion(out_dir, class_names)
    splits = assign_splits(images, ratios, seed, previous)
    check_split_balance({s: dict(defect_free=sum(not im.labels for im in splits[s]),
                                 defective=sum(bool(im.labels) for im in splits[s])) for s in SPLITS}, ratios)

    skipped, normalized, written, reused = [], [], 0, 0
    counts = {s: dict(defect_free=0, defective=0, with_masks=0) for s in SPLITS}
    lines: Dict[str, List[str]] = {s: [] for s in SPLITS}
    mask_splits = {s: bool(mask_root) and all(im.masks or not im.labels for im in splits[s]) for s in SPLITS}
    for split in SPLITS:
        seq = splits[split]
        if progress:
            from tqdm import tqdm
            seq = tqdm(seq, desc=f'convert {split}', unit='img')
        for im in seq:
            folder, rel, _ = im.sources[0]
            src = osp.join(root, folder, rel)
            try:
                placed = place_image(src, osp.join(out_dir, IMG_DIR, split), im.out_stem, resume=resume)
            except ImageDecodeError as err:  # only files that do not decode are bad images
                if not skip_bad:
                    raise DatasetLayoutError(f'{err} (or pass --skip-bad to leave such files out and list them '
                                             'in conversion.json)') from err
                skipped.append(dict(file=src, reason=str(err)))
                continue
            name, shape = placed.name, placed.shape
            if placed.reused:
                reused += 1
            else:
                written += 1
                if placed.normalized:
                    normalized.append(dict(file=src, note=placed.normalized))
            if mask_splits[split]:
                label = np.zeros(shape, np.uint8)
                for cls, mask_path in sorted(im.masks.items()):
                    defect = read_binary_mask(mask_path, shape, mask_thr, placed.orientation)
                    if cls == 0 and defect.any():
                        raise DatasetLayoutError(
                            f'mask {mask_path} marks defect pixels on an image filed as defect-free ({folder}); '
                            'move the image to its defect folder or clear the mask')
                    label[defect] = cls
                atomic_write_png(osp.join(out_dir, ANN_DIR, split, im.out_stem + '.png'), label)
                counts[split]['with_masks'] += 1
            lines[split].append(format_label_line(name, im.labels))
            counts[split]['defective' if im.labels else 'defect_free'] += 1
    check_split_balance(counts, ratios)
    for split in SPLITS:
        atomic_write_text(labels_file(out_dir, split), '\n'.join(lines[split]) + '\n')
    removed = _remove_stale_outputs(out_dir, {s: {osp.splitext(n.split('\t')[0])[0] for n in lines[s]}
                                               for s in SPLITS}) if converted_before else []
    info = dict(classes=class_names, palette=palette_for(len(class_names)), ok_folders=list(ok),
                masks={s: mask_splits[s] for s in SPLITS}, counts=counts)
    atomic_write_text(osp.join(out_dir, 'dataset_info.json'), json.dumps(info, indent=2))
    report = dict(options=options, classes=class_names, counts=counts, masks=info['masks'], written=written,
                  reused=reused, skipped=skipped, normalized=normalized, removed=removed,
                  kept_splits=sum(im.out_stem in previous for im in images), **mask_report)
    atomic_write_text(osp.join(out_dir, 'conversion.json'), json.dumps(report, indent=2))
    return report
