"""Stage 2: a trained classifier + image-level labels -> CAMs -> pseudo-label PNGs for the training split."""
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Tuple

import cv2
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import DefaultScope
from mmpretrain.registry import DATASETS
from torch.utils.data import DataLoader, Subset

from mmwsss.cam import build_cam, cams_to_pseudo_labels
from mmwsss.datasets.layout import ANN_DIR, IMG_DIR
from mmwsss.datasets.pseudo_label_dataset import pseudo_label_name
from mmwsss.utils import atomic_write_png, atomic_write_text


def check_output_dir(out_dir: str, data_root: str) -> None:
    """Refuse to write pseudo-labels into (or above) the dataset's image or annotation folders."""
    out = osp.realpath(out_dir)
    for sub in (ANN_DIR, IMG_DIR):
        protected = osp.realpath(osp.join(data_root, sub))
        if out == protected or out.startswith(protected + os.sep) or protected.startswith(out + os.sep):
            raise ValueError(f'refusing to write pseudo-labels into the dataset folder {protected}: '
                             f'choose an --out-dir outside {osp.join(data_root, sub)}')


def _is_complete_png(path: str) -> bool:
    return osp.isfile(path) and cv2.imread(path, cv2.IMREAD_UNCHANGED) is not None


def cam_settings(cfg: Config, name: str) -> Tuple[str, List[str], dict]:
    """Registered method, target layers and keyword arguments of a CAM setting for a classifier config.

    ``name`` is a registered method (``'gradcam'``) or a key of ``cfg.cam_presets``; a preset may name its
    method (``cam_presets.racam_q95 = dict(method='racam', q=0.95)``). Precedence, low to high: an
    ``FGBPCAMHead``'s ``cam_cfg`` (for its ``cam_method``; other methods get its deepest target layer),
    the preset, ``cfg.cam.kwargs``; the target layers default to ``cfg.cam.target_layers``.
    """
    preset = dict(cfg.get('cam_presets', {}).get(name, {}))
    method = preset.pop('method', name)
    settings = {}
    head = cfg.get('model', {}).get('head', {})
    if head.get('type') in ('FGBPCAMHead', 'mmpretrain.FGBPCAMHead'):
        from mmwsss.models.heads.fgbp_cam_head import head_cam_settings
        settings = head_cam_settings(head.get('cam_method', 'racam'), head.get('cam_cfg'), method)
    settings.update(preset)
    settings.update(cfg.get('cam', {}).get('kwargs', {}))
    layers = settings.pop('target_layers', cfg.get('cam', {}).get('target_layers', ['backbone.layer4']))
    return method, list(layers), settings


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


def _generate_pseudo_labels(cfg: Config,
                           checkpoint: str,
                           out_dir: str,
                           method: Optional[str] = None,
                           bg_thr: Optional[float] = None,
                           fg_thr: Optional[float] = None,
                           batch_size: Optional[int] = None,
                           device: str = 'cpu',
                           resume: bool = True,
                           progress: bool = True,
                           model=None) -> Dict:
    """Write ``<out_dir>/<stem>.png`` for every image of ``cfg.cam_dataloader``.

    Labels: 0 background, k defect class k, 255 ignore (between ``bg_thr`` and ``fg_thr``); a defect-free
    image is all background and classes absent from the image label never appear. Files are written
    atomically; with ``resume`` existing readable files are kept. CAM settings default to ``cfg.cam``.

    Returns:
        a manifest dict (also written to ``<out_dir>/manifest.json``).
    """
    cam_cfg = dict(cfg.get('cam', {}))
    method = method or cam_cfg.get('method', 'gradcam')
    bg_thr = cam_cfg.get('bg_thr', 0.3) if bg_thr is None else bg_thr
    fg_thr = cam_cfg.get('fg_thr', 0.5) if fg_thr is None else fg_thr
    if not 0.0 <= bg_thr <= fg_thr <= 1.0:
        raise ValueError(f'need 0 <= bg_thr <= fg_thr <= 1, got bg_thr={bg_thr}, fg_thr={fg_thr}')
    if 'cam_dataloader' not in cfg:
        raise KeyError('the classifier config needs a `cam_dataloader` (training split, test pipeline)')
    loader_cfg = cfg.cam_dataloader
    dataset = DATASETS.build(loader_cfg.dataset)
    check_output_dir(out_dir, loader_cfg.dataset.get('data_root', ''))
    os.makedirs(out_dir, exist_ok=True)

    todo = [
        i for i in range(len(dataset))
        if not (resume and _is_complete_png(osp.join(out_dir, pseudo_label_name(dataset.get_data_info(i)['img_path']))))
    ]
    if model is None:
        model = load_classifier(cfg, checkpoint, device)
    method_type, layers, kwargs = cam_settings(cfg, method)
    cam = build_cam(method_type, model, layers, **kwargs)
    num_classes = len(dataset.metainfo['classes'])
    loader = DataLoader(Subset(dataset, todo), batch_size=batch_size or loader_cfg.get('batch_size', 16),
                        shuffle=False, num_workers=loader_cfg.get('num_workers', 0), collate_fn=pseudo_collate)
    if progress:
        from tqdm import tqdm
        loader = tqdm(loader, desc=f'pseudo-labels ({method})', unit='batch')
    for data in loader:
        data = model.data_preprocessor(data, False)
        samples = data['data_samples']
        class_mask = torch.zeros(len(samples), num_classes, dtype=torch.bool, device=data['inputs'].device)
        for n, s in enumerate(samples):
            class_mask[n, s.gt_label] = True
        cams = cam(data['inputs'], class_mask)
        for n, s in enumerate(samples):
            full = F.interpolate(cams[n:n + 1], size=tuple(s.ori_shape), mode='bilinear', align_corners=False)
            label = cams_to_pseudo_labels(full, class_mask[n:n + 1], bg_thr, fg_thr)[0]
            atomic_write_png(osp.join(out_dir, pseudo_label_name(s.img_path)), label.cpu().numpy())
    manifest = dict(method=method, bg_thr=bg_thr, fg_thr=fg_thr, checkpoint=osp.abspath(checkpoint) if checkpoint else None,
                    config=cfg.filename, target_layers=layers, settings=kwargs, images=len(dataset),
                    written=len(todo))
    atomic_write_text(osp.join(out_dir, 'manifest.json'), json.dumps(manifest, indent=2))
    return manifest
