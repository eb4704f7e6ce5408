"""IterativeRefineHook: the segmenter relabels its training set during training (pseudo-label refinement).

At the scheduled iterations the hook runs the current segmenter over every training image (batched, no
grad, the test pipeline without annotations), fuses its probabilities with the current pseudo-labels
(:func:`mmwsss.engine.refine_pseudo_labels`: image-level constraints, replace / average / agree, low
confidence -> 255), writes round ``r`` to ``<out_dir>/round_<r>`` atomically (a ``.partial`` folder renamed
when complete: an interrupted round leaves the previous one in use), switches the
:class:`~mmwsss.datasets.PseudoLabelDataset` to it and restarts the data loader so the next batch comes
from the new masks. Round and folder are saved in checkpoints and restored by ``--resume``.
"""
import inspect
import json
import os
import os.path as osp
import shutil
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.dataset import Compose, pseudo_collate
from mmengine.dist import barrier, get_dist_info, is_main_process
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmseg.registry import HOOKS
from tqdm import tqdm

from mmwsss.datasets.layout import read_image
from mmwsss.datasets.pseudo_label_dataset import PseudoLabelDataset, pseudo_label_name
from mmwsss.evaluation.segmentation_scores import confusion_matrix, iou_from_confusion, summarize_iou
from mmwsss.utils.atomic_io import atomic_write_png
from ..label_refinement import FUSION_MODES, IGNORE_INDEX, refine_pseudo_labels

STATE_KEY = 'iterative_refine'


def find_pseudo_label_dataset(dataset) -> PseudoLabelDataset:
    """The :class:`PseudoLabelDataset` inside ``dataset`` (itself, or under wrappers' ``.dataset``)."""
    seen = dataset
    for _ in range(8):
        if isinstance(seen, PseudoLabelDataset):
            return seen
        seen = getattr(seen, 'dataset', None)
        if seen is None:
            break
    raise TypeError(f'IterativeRefineHook needs a PseudoLabelDataset in the training data, got '
                    f'{type(dataset).__name__}')


def predict_by_size(model, items: List[dict]) -> list:
    """``model.test_step`` over pipeline outputs of any sizes, batched per input size, in input order.

    mmseg's ``SegDataPreProcessor`` stacks a test batch only when every image has the same size (MTD's images do not:
    103-632 px wide at native resolution), so a chunk is split into one batch per ``inputs`` shape.
    """
    groups: Dict[tuple, List[int]] = {}
    for i, item in enumerate(items):
        groups.setdefault(tuple(item['inputs'].shape), []).append(i)
    out = [None] * len(items)
    for members in groups.values():
        for i, sample in zip(members, model.test_step(pseudo_collate([items[i] for i in members]))):
            out[i] = sample
    return out


@HOOKS.register_module()
class IterativeRefineHook(Hook):
    """Refine the pseudo-labels with the segmenter being trained.

    Args:
        interval: refine every ``interval`` training iterations (epoch-based loops count iterations too).
        iters: or refine after these iterations (1-based, ``runner.iter + 1``); exclusive with ``interval``.
            The final iteration never triggers a round (nothing would train on it).
        at_start: also refine before the first iteration (a run that starts from a trained segmenter,
            ``load_from``; not repeated on resume).
        mode: ``'replace'``, ``'average'`` or ``'agree'`` (see :func:`refine_pseudo_labels`).
        conf_thr: pixels with fused confidence below it are ignored (255).
        label_weight: weight of the current label in ``'average'``.
        keep_lost_classes: an image-level class that the new label loses entirely keeps its current pixels
            (see :func:`refine_pseudo_labels`; guards classes the segmenter has not learned yet).
        min_change: stop relabelling once a round changes fewer than this fraction of the training pixels (the
            labels have converged): the later scheduled rounds are skipped (logged once; resumable, the
            decision follows the saved history). 0 runs every scheduled round.
        out_dir: where rounds are written (default ``<work_dir>/refined_labels``).
        pipeline: inference pipeline (default: the test dataloader's, without ``LoadAnnotations``).
        batch_size: images per inference batch.
        monitor_gt: when the training images have GT masks, log the pseudo-label quality of each round
            (monitoring only; never used for training).

    In iteration-based loops the new masks are served from the next batch. In epoch-based loops they are
    served at once without worker processes, and from the next epoch with workers (a running epoch's
    workers hold their own copy of the dataset).
    """
    priority = 'NORMAL'  # before CheckpointHook (VERY_LOW): a checkpoint saved at a round includes it

    def __init__(self,
                 interval: Optional[int] = None,
                 iters: Optional[Sequence[int]] = None,
                 at_start: bool = False,
                 mode: str = 'average',
                 conf_thr: float = 0.7,
                 label_weight: float = 0.3,
                 keep_lost_classes: bool = False,
                 min_change: float = 0.0,
                 out_dir: Optional[str] = None,
                 pipeline: Optional[List[dict]] = None,
                 batch_size: int = 8,
                 monitor_gt: bool = True) -> None:
        if interval is not None and iters is not None:
            raise ValueError('IterativeRefineHook: give exactly one of interval= and iters=')
        if interval is None and iters is None and not at_start:
            raise ValueError('IterativeRefineHook: give exactly one of interval= and iters= (or at_start=True)')
        if interval is not None and interval <= 0:
            raise ValueError(f'IterativeRefineHook: interval must be > 0, got {interval}')
        if iters is not None and iters and min(iters) <= 0:
            raise ValueError(f'IterativeRefineHook: iters must be positive iteration numbers, got {iters}')
        if mode not in FUSION_MODES:
            raise ValueError(f'IterativeRefineHook: mode must be one of {FUSION_MODES}, got {mode!r}')
        if not 0.0 <= conf_thr <= 1.0 or not 0.0 <= label_weight <= 1.0:
            raise ValueError(f'IterativeRefineHook: conf_thr and label_weight must be in [0, 1], got '
                             f'{conf_thr}, {label_weight}')
        if batch_size <= 0:
            raise ValueError(f'IterativeRefineHook: batch_size must be > 0, got {batch_size}')
        if not 0.0 <= min_change <= 1.0:
            raise ValueError(f'IterativeRefineHook: min_change must be in [0, 1], got {min_change}')
        self.interval = interval
        self.iters = sorted(set(int(i) for i in iters or []))
        self.at_start = at_start
        self.mode, self.conf_thr, self.label_weight = mode, conf_thr, label_weight
        self.keep_lost_classes = bool(keep_lost_classes)
        self.min_change = float(min_change)
        self.out_dir = out_dir
        self.pipeline_cfg = pipeline
        self.batch_size = batch_size
        self.monitor_gt = monitor_gt
        self.round = 0
        self.label_dir: Optional[str] = None  # folder of the current round (None: the config's, round 0)
        self.history: List[Dict] = []
        self._restore_pending = False
        self._reset_workers_next_epoch = False

    # ------------------------------------------------------------------ schedule
    def converged(self) -> bool:
        """The last round changed fewer than ``min_change`` of the pixels: no further round."""
        return bool(self.history) and self.history[-1]['changed_fraction'] < self.min_change

    def should_refine(self, runner) -> bool:
        it = runner.iter + 1
        if it >= runner.max_iters:
            return False
        return it % self.interval == 0 if self.interval is not None else it in self.iters

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if not self.should_refine(runner):
            return
        if not self.converged():
            self.refine(runner)
        elif not self.history[-1].get('stopped'):
            self.history[-1]['stopped'] = True
            runner.logger.info(f'IterativeRefineHook: round {self.round} changed '
                               f'{self.history[-1]["changed_fraction"]:.2%} < min_change {self.min_change:.2%} '
                               f'of the pixels: the labels have converged, no further round')

    # ------------------------------------------------------------------ resume
    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint.setdefault('meta', {})[STATE_KEY] = dict(round=self.round, label_dir=self.label_dir,
                                                            history=self.history)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state = checkpoint.get('meta', {}).get(STATE_KEY)
        if state is None:
            return
        self.round, self.label_dir = int(state['round']), state['label_dir']
        self.history = list(state.get('history', []))
        self._restore_pending = self.label_dir is not None

    def before_train(self, runner) -> None:
        if self._restore_pending:
            if not osp.isdir(self.label_dir):
                raise FileNotFoundError(f'IterativeRefineHook: the checkpoint was saved at round {self.round} '
                                        f'with labels in {self.label_dir}, which is gone')
            find_pseudo_label_dataset(runner.train_loop.dataloader.dataset).switch(self.label_dir)
            self._restart_loader(runner)
            runner.logger.info(f'IterativeRefineHook: resumed at round {self.round} ({self.label_dir})')
            self._restore_pending = False
        elif self.at_start and runner.iter == 0 and self.round == 0:
            self.refine(runner, done_iters=0)

    def before_train_epoch(self, runner) -> None:
        if self._reset_workers_next_epoch:
            loader = runner.train_loop.dataloader
            iterator = getattr(loader, '_iterator', None)
            if iterator is not None and hasattr(iterator, '_shutdown_workers'):
                iterator._shutdown_workers()
                loader._iterator = None
            self._reset_workers_next_epoch = False

    # ------------------------------------------------------------------ one round
    def _output_root(self, runner) -> str:
        return self.out_dir or osp.join(runner.work_dir, 'refined_labels')

    def _inference_pipeline(self, runner) -> Compose:
        cfg = self.pipeline_cfg
        if cfg is None:
            cfg = runner.cfg.get('test_dataloader', {}).get('dataset', {}).get('pipeline')
            if cfg is None:
                raise ValueError('IterativeRefineHook: no pipeline= and no test_dataloader.dataset.pipeline in '
                                 'the config')
        return Compose([t for t in cfg if 'LoadAnnotations' not in t['type']])

    @torch.no_grad()
    def refine(self, runner, done_iters: Optional[int] = None) -> Dict:
        """Run one round now; ``done_iters`` (default ``runner.iter + 1``) is logged. Returns its record."""
        done = runner.iter + 1 if done_iters is None else done_iters
        dataset = find_pseudo_label_dataset(runner.train_loop.dataloader.dataset)
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        pipeline = self._inference_pipeline(runner)
        new_round = self.round + 1
        root = self._output_root(runner)
        target = osp.join(root, f'round_{new_round}')
        partial = osp.join(root, f'.round_{new_round}.partial')
        rank, world_size = get_dist_info()
        if is_main_process():
            if osp.isdir(partial):
                shutil.rmtree(partial)  # left by an interrupted round
            os.makedirs(partial)
        barrier()
        if 'image_labels' not in dataset.dataset.get_data_info(0):
            raise ValueError(
                f'IterativeRefineHook: the training dataset {type(dataset.dataset).__name__} gives no image_labels '
                '(image-level classes): without them every refined mask would turn to background. Train on a '
                'DefectSegDataset (or a subclass) over the mmwsss layout, whose image_labels/<split>.txt lists them')
        num_classes = len(dataset.metainfo['classes'])
        stats = torch.zeros(3, dtype=torch.long)  # changed, total, ignored
        cm = torch.zeros(num_classes, num_classes, dtype=torch.long)
        have_gt = self.monitor_gt
        was_training = model.training
        model.eval()
        try:
            indices = list(range(rank, len(dataset), world_size))
            starts = range(0, len(indices), self.batch_size)
            for start in tqdm(starts, desc=f'refine round {new_round}', unit='batch', disable=rank != 0):
                chunk = indices[start:start + self.batch_size]
                infos = [dataset.dataset.get_data_info(i) for i in chunk]
                samples = predict_by_size(model, [pipeline(dict(img_path=info['img_path'])) for info in infos])
                for idx, info, sample in zip(chunk, infos, samples):
                    probs = sample.seg_logits.data.softmax(0)[None]
                    old = torch.from_numpy(read_image(dataset.get_data_info(idx)['seg_map_path']).astype(np.int64))
                    mask = torch.zeros(1, num_classes - 1, dtype=torch.bool)
                    for k in info.get('image_labels', []):
                        mask[0, k - 1] = True
                    new = refine_pseudo_labels(probs, old[None].to(probs.device), mask, self.mode,
                                               self.conf_thr, self.label_weight,
                                               self.keep_lost_classes)[0].cpu()
                    atomic_write_png(osp.join(partial, pseudo_label_name(info['img_path'])), new.numpy())
                    stats += torch.tensor([int((new.long() != old).sum()), new.numel(),
                                           int((new == IGNORE_INDEX).sum())])
                    gt_path = info.get('seg_map_path')
                    if have_gt and gt_path and osp.isfile(gt_path):
                        cm += confusion_matrix(new, torch.from_numpy(read_image(gt_path)), num_classes)
                    else:
                        have_gt = False
        finally:
            model.train(was_training)
        if world_size > 1:
            gathered = [None] * world_size
            torch.distributed.all_gather_object(gathered, (stats, cm, have_gt))
            stats = sum(g[0] for g in gathered)
            cm = sum(g[1] for g in gathered)
            have_gt = all(g[2] for g in gathered)
        barrier()
        if is_main_process():
            with open(osp.join(partial, 'manifest.json'), 'w') as f:
                json.dump(dict(round=new_round, iter=done, mode=self.mode, conf_thr=self.conf_thr,
                               label_weight=self.label_weight, source=dataset.pseudo_label_dir), f, indent=2)
            if osp.isdir(target):
                shutil.rmtree(target)
            os.replace(partial, target)
        barrier()
        dataset.switch(target)
        self.round, self.label_dir = new_round, target
        self._restart_loader(runner)
        record = dict(round=new_round, iter=done, label_dir=target,
                      changed_fraction=round(int(stats[0]) / max(int(stats[1]), 1), 4),
                      ignored_fraction=round(int(stats[2]) / max(int(stats[1]), 1), 4))
        if have_gt:
            record['pseudo_labels'] = summarize_iou(iou_from_confusion(cm), list(dataset.metainfo['classes']))
        self.history.append(record)
        runner.message_hub.update_scalar('refine/round', new_round)
        runner.message_hub.update_scalar('refine/changed_fraction', record['changed_fraction'])
        quality = ''
        if have_gt:
            runner.message_hub.update_scalar('refine/pseudo_defect_miou', record['pseudo_labels']['defect_miou'])
            quality = f", pseudo-label defect-mIoU vs GT {record['pseudo_labels']['defect_miou']:.3f} (monitoring)"
        runner.logger.info(f'IterativeRefineHook: round {new_round} at iter {done}: '
                           f'{record["changed_fraction"]:.1%} of pixels changed, {record["ignored_fraction"]:.1%} '
                           f'ignored{quality} -> {target}')
        return record

    def _restart_loader(self, runner) -> None:
        """Make the next batch come from the switched dataset (fresh worker processes if any)."""
        loop = runner.train_loop
        loader = loop.dataloader
        if not getattr(loader, 'num_workers', 0):
            return  # one process: the loader reads the (switched) dataset object itself, nothing prefetched
        infinite = getattr(loop, 'dataloader_iterator', None)
        if infinite is None:  # epoch-based: the running epoch's iterator cannot be replaced
            self._reset_workers_next_epoch = True
            return
        old = infinite._iterator
        if hasattr(old, '_shutdown_workers'):
            old._shutdown_workers()
        if getattr(loader, '_iterator', None) is not None:
            loader._iterator = None  # persistent workers: drop the cached iterator and its workers
        sampler = getattr(loader, 'sampler', None)
        if hasattr(sampler, '_indices_of_rank') and inspect.isgenerator(getattr(sampler, 'indices', None)):
            # mmengine's InfiniteSampler keeps one generator; the dropped iterator closes it on collection
            sampler.indices = sampler._indices_of_rank()
        infinite._iterator = iter(loader)
