"""The main job: image-level labels -> classifier -> CAM pseudo-labels -> mmseg segmenter -> report.

Stages (each resumable; finished stages are recorded in ``<work_dir>/state.json`` and skipped):

1. ``data``          prepare (embedded synthetic set / MTD conversion) if missing, then validate.
2. ``classifier``    train the mmpretrain multi-label classifier on image-level labels; test it.
3. ``pseudo_labels`` CAMs of the image-level classes on the training split -> PNG pseudo-labels; score
                     them against the GT masks of the training split (monitoring only).
4. ``segmenter``     train the mmseg segmenter on the pseudo-labels; test on the GT masks of the test split.
5. ``report``        ``results.json``, ``results.md`` and overlay PNGs.

GT masks are never used for training: only to score pseudo-labels and the final segmenter.
"""
import hashlib
import json
import os
import os.path as osp
import time
from typing import Callable, Dict, List, Optional

from mmengine.config import Config

from mmwsss.datasets.layout import ANN_DIR, SPLITS, DatasetLayoutError, check_data_root, validate_split
from mmwsss.utils import atomic_write_text
from .runner_config import build_runner, prepare_config

STAGES = ('data', 'classifier', 'pseudo_labels', 'segmenter', 'report')


def _percent_to_fraction(value) -> Optional[float]:
    return None if value is None or value != value else round(float(value) / 100.0, 4)


class WSSSPipeline:
    """Run the weakly supervised pipeline described by a pipeline config.

    Args:
        cfg: pipeline config (see ``configs/wsss/``): ``dataset_name``, ``data_root``, ``data_preparation``,
            ``classifier=dict(config=..., cfg_options=...)``, ``cam=dict(method, bg_thr, fg_thr, ...)``,
            ``segmenter=dict(config=..., cfg_options=...)``, ``report=dict(num_overlays=...)``.
        work_dir: output folder.
        device: torch device for CAM generation and overlays.
    """

    def __init__(self, cfg: Config, work_dir: str, device: str = 'cpu') -> None:
        for key in ('dataset_name', 'data_root', 'classifier', 'segmenter', 'cam'):
            if key not in cfg:
                raise KeyError(f'pipeline config {cfg.filename} lacks `{key}`')
        self.cfg = cfg
        self.work_dir = work_dir
        self.device = device
        self.state_path = osp.join(work_dir, 'state.json')
        os.makedirs(work_dir, exist_ok=True)
        self.fingerprint = hashlib.sha1(cfg.pretty_text.encode()).hexdigest()[:12]
        self.state = self._load_state()
        self._classes: Optional[List[str]] = None

    # ------------------------------------------------------------------ state
    def _load_state(self) -> Dict:
        if not osp.isfile(self.state_path):
            return dict(fingerprint=self.fingerprint, stages={})
        with open(self.state_path) as f:
            state = json.load(f)
        if state.get('fingerprint') != self.fingerprint:
            raise RuntimeError(
                f'{self.work_dir} holds a run of a different pipeline config; use another --work-dir or '
                'pass --restart to discard it.')
        return state

    def _save_state(self) -> None:
        atomic_write_text(self.state_path, json.dumps(self.state, indent=2))

    def _sub_config(self, key: str) -> Config:
        sub = self.cfg[key]
        path = sub['config']
        if not osp.isabs(path):
            path = osp.normpath(osp.join(osp.dirname(self.cfg.filename), path))
        return prepare_config(path, work_dir=osp.join(self.work_dir, key), cfg_options=sub.get('cfg_options'),
                              data_root=self.cfg.data_root)

    # ------------------------------------------------------------------ stages
    def run(self, stages: Optional[List[str]] = None, log: Callable[[str], None] = print) -> Dict:
        for stage in stages or STAGES:
            if stage not in STAGES:
                raise ValueError(f'unknown stage {stage!r}; stages are {STAGES}')
            if self.state['stages'].get(stage, {}).get('done'):
                log(f'[mmwsss] stage {stage}: done before, skipped (resume)')
                continue
            log(f'[mmwsss] stage {stage}: running')
            start = time.time()
            result = getattr(self, f'stage_{stage}')()
            self.state['stages'][stage] = dict(done=True, seconds=round(time.time() - start, 1), result=result)
            self._save_state()
        return self.state

    def stage_data(self) -> Dict:
        root = self.cfg.data_root
        prep = self.cfg.get('data_preparation')
        if not osp.isdir(root) and prep:
            if prep['type'] == 'synthetic':
                from mmwsss.datasets.synthetic_defects import SyntheticSpec, write_synthetic_dataset
                write_synthetic_dataset(root, SyntheticSpec(**prep.get('spec', {})), progress=True)
            elif prep['type'] == 'mtd':
                from mmwsss.datasets.mtd_converter import convert_mtd
                src = prep['src']
                if not osp.isabs(src):
                    src = osp.normpath(osp.join(os.getcwd(), src))
                convert_mtd(src, root, seed=prep.get('seed', 0), ratios=prep.get('ratios', (0.7, 0.1, 0.2)))
            else:
                raise ValueError(f"data_preparation.type must be 'synthetic' or 'mtd', got {prep['type']!r}")
        check_data_root(root)
        num_classes = len(self._segmenter_classes())
        stats = {}
        for split in SPLITS:
            has_masks = osp.isdir(osp.join(root, ANN_DIR, split))
            stats[split] = validate_split(root, split, num_classes, check_masks=has_masks,
                                          require_both=(split == 'train'))
        if not osp.isdir(osp.join(root, ANN_DIR, 'test')):
            raise DatasetLayoutError(f'{osp.join(root, ANN_DIR, "test")} missing: the test split needs GT masks '
                                     'to evaluate the segmenter')
        return stats

    def _segmenter_classes(self) -> List[str]:
        """Class names (background first) of the segmenter's dataset type (config read once)."""
        if self._classes is None:
            from mmseg.registry import DATASETS
            dataset_type = self._sub_config('segmenter').test_dataloader.dataset.type
            self._classes = list(DATASETS.get(dataset_type).METAINFO['classes'])
        return self._classes

    @staticmethod
    def _train_and_test(cfg: Config) -> Dict:
        cfg.resume = osp.isfile(osp.join(cfg.work_dir, 'last_checkpoint'))
        runner = build_runner(cfg)
        runner.train()
        metrics = runner.test()
        with open(osp.join(cfg.work_dir, 'last_checkpoint')) as f:
            checkpoint = f.read().strip()
        return dict(metrics={k: float(v) for k, v in metrics.items()}, checkpoint=checkpoint)

    def stage_classifier(self) -> Dict:
        cfg = self._sub_config('classifier')
        out = self._train_and_test(cfg)
        m = out['metrics']
        out['summary'] = dict(
            accuracy=_percent_to_fraction(m.get('multi-label/accuracy')),
            ok_ng_accuracy=_percent_to_fraction(m.get('multi-label/ok_ng_accuracy')),
            f1=_percent_to_fraction(m.get('multi-label/f1-score')),
            precision=_percent_to_fraction(m.get('multi-label/precision')),
            recall=_percent_to_fraction(m.get('multi-label/recall')))
        return out

    def _classifier_cfg_with_cam(self) -> Config:
        cfg = self._sub_config('classifier')
        cam = dict(cfg.get('cam', {}))
        cam.update(self.cfg.cam)
        cfg.cam = cam
        return cfg

    def pseudo_label_dir(self) -> str:
        return osp.join(self.work_dir, 'pseudo_labels')

    def stage_pseudo_labels(self) -> Dict:
        from mmwsss.evaluation import score_label_folder
        from .pseudo_label_generation import generate_pseudo_labels
        cfg = self._classifier_cfg_with_cam()
        checkpoint = self.state['stages']['classifier']['result']['checkpoint']
        manifest = generate_pseudo_labels(cfg, checkpoint, self.pseudo_label_dir(), device=self.device)
        scores = score_label_folder(self.pseudo_label_dir(), self.cfg.data_root, 'train', self._segmenter_classes())
        return dict(manifest=manifest, scores=scores)

    def stage_segmenter(self) -> Dict:
        cfg = self._sub_config('segmenter')
        cfg.train_dataloader.dataset.pseudo_label_dir = self.pseudo_label_dir()
        if cfg.train_dataloader.dataset.type != 'PseudoLabelDataset':
            raise ValueError('the segmenter config must train on a PseudoLabelDataset (weak supervision only)')
        out = self._train_and_test(cfg)
        m = out['metrics']
        classes = self._segmenter_classes()
        out['summary'] = dict(
            miou=_percent_to_fraction(m.get('mIoU')),
            defect_miou=_percent_to_fraction(m.get('defect_mIoU')),
            defect_iou={c: _percent_to_fraction(m.get(f'IoU.{c}')) for c in classes[1:]},
            iou={c: _percent_to_fraction(m.get(f'IoU.{c}')) for c in classes})
        return out

    def stage_report(self) -> Dict:
        from .report import write_report
        return write_report(self)

    def results(self) -> Dict:
        """The ``results.json`` content (contract keys: dataset, cam_method, classifier.accuracy,
        pseudo_labels.{miou, defect_iou}, segmenter.{miou, defect_iou}, seconds)."""
        st = self.state['stages']
        pl = st['pseudo_labels']['result']
        return dict(
            dataset=self.cfg.dataset_name,
            data_root=self.cfg.data_root,
            cam_method=pl['manifest']['method'],
            thresholds=dict(bg_thr=pl['manifest']['bg_thr'], fg_thr=pl['manifest']['fg_thr']),
            classifier=dict(st['classifier']['result']['summary'], config=self.cfg.classifier['config']),
            pseudo_labels=dict(
                split='train',
                miou=pl['scores']['miou'],
                defect_miou=pl['scores']['defect_miou'],
                defect_iou=pl['scores']['defect_iou'],
                ignored_fraction=pl['scores']['ignored_fraction']),
            segmenter=dict(st['segmenter']['result']['summary'], split='test',
                           config=self.cfg.segmenter['config']),
            seconds={k: v['seconds'] for k, v in st.items() if 'seconds' in v})
