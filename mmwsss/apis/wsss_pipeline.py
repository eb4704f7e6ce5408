"""The main job: image-level labels -> classifier -> CAM pseudo-labels -> mmseg segmenter -> report.

Stages (each resumable; finished stages are recorded in ``<work_dir>/state.json`` and skipped):

1. ``data``          prepare (embedded synthetic set / MTD conversion) if missing, then validate.
2. ``classifier``    train the mmpretrain multi-label classifier on image-level labels; test it.
3. ``pseudo_labels`` CAMs of the image-level classes on the training split -> PNG pseudo-labels; score
                     them against the GT masks of the training split (monitoring only).
4. ``segmenter``     train the mmseg segmenter on the pseudo-labels; test on the GT masks of the test split
                     (round 0).
5. ``refinement``    ``refinement.rounds`` > 0: continue training from the round-0 segmenter with
                     :class:`~mmwsss.engine.IterativeRefineHook` relabelling the training set before each
                     round of ``iters_per_round`` iterations; test the segmenter of every round.
6. ``fully_supervised`` if ``fully_supervised.config`` is set: the same segmenter trained on the GT masks
                     (the upper bound), tested the same way.
7. ``report``        ``results.json``, ``results.md`` and overlay PNGs.

GT masks are never used for training: only to score pseudo-labels and the final segmenter. Masks are
optional: a split without ``ann_dir/<split>`` is scored image by image against its OK / NG labels
(:class:`~mmwsss.evaluation.ImageLevelMetric`: AUROC, AP, false alarms, NG recall), and what needs masks
(pseudo-label IoU, segmenter IoU, the fully supervised bound) is reported as ``not measured``.

A stage with nothing to do (``refinement.rounds`` 0, no ``fully_supervised.config``, no train masks) is
recorded as skipped, not done: enabling it later runs it.

Resume rules: each finished stage records a fingerprint of the config keys it read (and of the stages it
builds on, :data:`STAGE_INPUTS` / :data:`STAGE_DEPENDS`). Settings of stages that have not run may change
between runs (e.g. add ``refinement.rounds`` after the segmenter); a changed input of a finished stage is
refused (``--restart`` or another work dir).
"""
import contextlib
import copy
import hashlib
import json
import os
import os.path as osp
import time
import warnings
from typing import Callable, Dict, List, Optional

from mmengine.config import Config

from mmwsss.datasets.layout import ANN_DIR, SPLITS, DatasetLayoutError, check_data_root, validate_split
from mmwsss.utils import ConfigKeyError, atomic_write_text, check_cfg_options
from .runner_config import (build_runner, configure_evaluation, prepare_config, test_only_config, tta_config,
                            without_masks)

STAGES = ('data', 'classifier', 'pseudo_labels', 'segmenter', 'refinement', 'fully_supervised', 'report')
# pipeline-config keys each stage reads, and the stages whose outputs it builds on
STAGE_INPUTS = dict(
    data=('dataset_name', 'data_root', 'data_preparation', 'require_defect_free'),
    classifier=('classifier', ),
    pseudo_labels=('cam', ),
    segmenter=('segmenter', ),
    refinement=('refinement', ),
    fully_supervised=('fully_supervised', ),
    report=('report', ))
STAGE_DEPENDS = dict(data=(), classifier=('data', ), pseudo_labels=('classifier', ), segmenter=('pseudo_labels', ),
                     refinement=('segmenter', ), fully_supervised=('data', ), report=('segmenter', ))


NO_MASKS = 'no masks: not measured'
COUNT_KEYS = ('image/images', 'image/defective', 'image/defect_free', 'pixel/defect_pixels',
              'pixel/regions')  # ints in results.json
DECISION_FILE = 'decision.json'  # the calibrated OK / NG rule of a segmenter (tools/predict.py reads it)
GATED_DECISION_FILE = 'decision_class_gated.json'  # the same for the class-gated segmenter (class_gate=True)
CLASS_GATE_RECALL = 0.95  # <key>.class_gate_recall default: the gate's floors pass 95 % of each class's val images
CLASS_GATE_MODE = 'reweight'  # <key>.class_gate_mode default (gate_probabilities): the classifier as a class prior
# <key>.class_gate defaults: the weak segmenter is also tested class-gated (MTD +0.046 mIoU, synthetic -0.006);
# the fully supervised one is not (MTD: 0.652 gated vs 0.653)
CLASS_GATE_DEFAULT = dict(segmenter=True, fully_supervised=False)
# keys of each pipeline-config section that --cfg-options may set (refinement: + IterativeRefineHook's arguments;
# keys under <section>.cfg_options / cam.kwargs / data_preparation go to the component and pass through)
SECTION_KEYS = dict(
    classifier=('config', 'cfg_options', 'checkpoint', 'amp', 'channels_last'),
    segmenter=('config', 'cfg_options', 'checkpoint', 'amp', 'channels_last', 'init_from_classifier', 'class_gate',
               'class_gate_recall', 'class_gate_mode'),
    fully_supervised=('config', 'cfg_options', 'checkpoint', 'amp', 'channels_last', 'init_from_classifier',
                      'class_gate', 'class_gate_recall', 'class_gate_mode'),
    cam=('method', 'bg_thr', 'fg_thr', 'threshold_rule', 'contrast_prior', 'target_layers', 'kwargs', 'compare'),
    refinement=('rounds', 'iters_per_round'),
    report=('num_overlays', 'num_gallery', 'num_review'))
TOP_KEYS = ('dataset_name', 'data_root', 'data_preparation', 'require_defect_free', 'custom_imports')


_DEVNULL = None


class PipelineStateError(RuntimeError):
    """A work dir that holds another run (or no pipeline run at all); the message says what to do."""


def pipeline_config_keys() -> Dict[str, set]:
    """Section -> the keys ``--cfg-options`` may set under it (:data:`SECTION_KEYS` + the refine hook's args)."""
    import inspect

    from mmwsss.engine.hooks.iterative_refine_hook import IterativeRefineHook
    hook_args = {k for k in inspect.signature(IterativeRefineHook.__init__).parameters
                 if k not in ('self', 'iters', 'at_start', 'out_dir')}
    keys = {k: set(v) for k, v in SECTION_KEYS.items()}
    keys['refinement'] |= hook_args
    return keys


def check_pipeline_options(cfg: Config, options: Optional[dict]) -> None:
    """Refuse ``--cfg-options`` keys a pipeline config cannot use (typos such as ``clasifier.checkpoint`` or
    ``refinement.round``), naming the closest valid key."""
    sections = pipeline_config_keys()
    where = cfg.filename
    for key in options or {}:
        parts = str(key).split('.')
        top = parts[0]
        tops = set(cfg.keys()) | set(sections) | set(TOP_KEYS)
        check_cfg_options({k: None for k in tops}, {top: None}, where, strict=True, shown=key)
        if top in sections and len(parts) > 1:
            known = sections[top] | set((cfg.get(top) or {}).keys())
            check_cfg_options({top: {k: None for k in known}}, {f'{top}.{parts[1]}': None}, where, strict=True,
                              shown=key)


def short_decision(decision: Optional[Dict]) -> Optional[Dict]:
    """The OK / NG rule as results.json reports it: threshold, min area, where it is stored."""
    if not decision:
        return None
    return {k: decision[k] for k in ('score_thr', 'min_area', 'calibrated_on', 'path') if k in decision}


def _percent_to_fraction(value) -> Optional[float]:
    return None if value is None or value != value else round(float(value) / 100.0, 4)


class WSSSPipeline:
    """Run the weakly supervised pipeline described by a pipeline config.

    Args:
        cfg: pipeline config (see ``configs/wsss/``): ``dataset_name``, ``data_root``, ``data_preparation``,
            ``classifier=dict(config=..., cfg_options=..., checkpoint=None, amp=False, channels_last=False)`` (a
            given checkpoint is tested, not retrained; ``amp``: mixed precision as ``tools/train.py --amp``, bf16 on
            a CPU; ``channels_last``: NHWC training and testing as ``--channels-last``; both for every training
            section),
            ``cam=dict(method, bg_thr, fg_thr, ...)``, ``segmenter=dict(config=..., cfg_options=..., amp=False,
            init_from_classifier=False)`` (``init_from_classifier``: the segmenter's backbone starts from the
            trained classifier's, which must have the same architecture),
            ``refinement=dict(rounds=0, iters_per_round=None, **IterativeRefineHook options)``,
            ``fully_supervised=dict(config=None, cfg_options=..., checkpoint=None, init_from_classifier=False)``,
            ``report=dict(num_overlays=4, num_gallery=3, num_review=6)`` (pictures of results.html).
        work_dir: output folder.
        device: torch device for CAM generation and overlays.
        quiet: send the runners' console logs to their log files only and show a progress bar per training
            stage (:class:`~mmwsss.engine.TrainProgressHook`) instead.
    """

    def __init__(self, cfg: Config, work_dir: str, device: str = 'cpu', quiet: bool = False) -> None:
        for key in ('dataset_name', 'data_root', 'classifier', 'segmenter', 'cam'):
            if key not in cfg:
                raise ConfigKeyError(f'pipeline config {cfg.filename} lacks `{key}`: start from a config in '
                                     'configs/wsss/ or one written by tools/dataset_converters/folders.py')
        self.cfg = cfg
        self.work_dir = work_dir
        self.device = device
        self.quiet = quiet
        self.state_path = osp.join(work_dir, 'state.json')
        os.makedirs(work_dir, exist_ok=True)
        self.fingerprint = hashlib.sha1(cfg.pretty_text.encode()).hexdigest()[:12]
        self.state = self._load_state()
        if osp.isfile(self.state_path):
            self._save_state()  # a state from an earlier version is stored with per-stage fingerprints
        self._classes: Optional[List[str]] = None

    # ------------------------------------------------------------------ state
    def stage_fingerprint(self, stage: str) -> str:
        """Hash of the pipeline-config keys ``stage`` and the stages it builds on read (:data:`STAGE_INPUTS`)."""
        keys, todo = set(), [stage]
        while todo:
            current = todo.pop()
            keys.update(STAGE_INPUTS[current])
            todo.extend(STAGE_DEPENDS[current])
        text = json.dumps({k: self.cfg.get(k) for k in sorted(keys)}, sort_keys=True, default=str)
        return hashlib.sha1(text.encode()).hexdigest()[:12]

    def _load_state(self) -> Dict:
        """Read ``state.json``. A finished stage whose inputs changed is refused (its outputs would no longer
        match the config); settings of stages not run yet (e.g. adding ``refinement``) may change freely."""
        if not osp.isfile(self.state_path):
            return dict(fingerprint=self.fingerprint, stage_fingerprints={}, stages={})
        with open(self.state_path) as f:
            state = json.load(f)
        done = [s for s, v in state.get('stages', {}).items() if v.get('done')]
        if 'stage_fingerprints' not in state:  # written by an earlier version: whole-config check, then migrate
            if state.get('fingerprint') != self.fingerprint:
                raise PipelineStateError(
                    f'{self.work_dir} holds a run of a different pipeline config; use another --work-dir or '
                    'pass --restart to discard it.')
            state['stage_fingerprints'] = {s: self.stage_fingerprint(s) for s in done}
        changed = [s for s in done if state['stage_fingerprints'].get(s) != self.stage_fingerprint(s)]
        if changed:
            keys = sorted({k for s in changed for k in STAGE_INPUTS[s]})
            raise PipelineStateError(
                f'{self.work_dir} holds a run of a different pipeline config: finished stage(s) {changed} were run '
                f'with other settings (config keys {keys} or what they build on); use another --work-dir or pass '
                '--restart to discard it.')
        state['fingerprint'] = self.fingerprint
        return state

    def _save_state(self) -> None:
        atomic_write_text(self.state_path, json.dumps(self.state, indent=2))

    def _sub_config(self, key: str) -> Config:
        sub = self.cfg[key]
        path = sub['config']
        if not osp.isabs(path):
            path = osp.normpath(osp.join(osp.dirname(self.cfg.filename), path))
        cfg = prepare_config(path, work_dir=osp.join(self.work_dir, key), cfg_options=sub.get('cfg_options'),
                             data_root=self.cfg.data_root, amp=bool(sub.get('amp', False)),
                             channels_last=bool(sub.get('channels_last', False)))
        if self.quiet:
            cfg.custom_hooks = list(cfg.get('custom_hooks', [])) + [dict(type='TrainProgressHook', desc=key)]
        return cfg

    # ------------------------------------------------------------------ stages
    def run(self, stages: Optional[List[str]] = None, log: Callable[[str], None] = print) -> Dict:
        """Run ``stages`` (default all) in order. A finished stage is skipped (resume) except ``report``,
        which is cheap and always redrawn from the latest stages. A stage whose result says ``skipped`` is
        recorded as not done, so that enabling it later runs it."""
        for stage in stages or STAGES:
            if stage not in STAGES:
                raise ValueError(f'unknown stage {stage!r}; stages are {STAGES}')
            missing = [d for d in STAGE_DEPENDS[stage] if not self.state['stages'].get(d, {}).get('done')]
            if missing:
                raise PipelineStateError(
                    f'stage {stage} needs the finished stage(s) {missing} in {self.work_dir}: run them first '
                    f'(--stages {" ".join(missing)} {stage}, or no --stages for the whole pipeline)')
            if self.state['stages'].get(stage, {}).get('done') and stage != 'report':
                log(f'[mmwsss] stage {stage}: done before, skipped (resume)')
                continue
            log(f'[mmwsss] stage {stage}: running')
            start = time.time()
            with self._console():
                result = getattr(self, f'stage_{stage}')()
            skipped = result.get('skipped') if isinstance(result, dict) else None
            self.state['stages'][stage] = dict(done=not skipped, seconds=round(time.time() - start, 1),
                                               result=result)
            if skipped:
                log(f'[mmwsss] stage {stage}: nothing to do ({skipped})')
                self.state['stage_fingerprints'].pop(stage, None)
            else:
                self.state['stage_fingerprints'][stage] = self.stage_fingerprint(stage)
            self._save_state()
        return self.state

    @contextlib.contextmanager
    def _console(self):
        """With ``quiet``, the runners' console output goes nowhere (their log files keep it all), and so do the
        OpenMMLab libraries' own notes (``UserWarning`` raised inside mmengine / mmseg / mmpretrain / mmcv:
        deprecations, "the draw is False" ...); warnings of this package and of torch still show."""
        if not self.quiet:
            yield
            return
        global _DEVNULL
        if _DEVNULL is None:  # one handle for the process: loggers made inside a stage keep writing to it
            _DEVNULL = open(os.devnull, 'w')
        with contextlib.redirect_stdout(_DEVNULL), warnings.catch_warnings():
            warnings.filterwarnings('ignore', category=UserWarning, module=r'(mmengine|mmseg|mmpretrain|mmcv)\b')
            yield

    def has_masks(self, split: str) -> bool:
        """Whether ``split`` has GT masks (recorded by the data stage; read from disk before it ran)."""
        recorded = self.state['stages'].get('data', {}).get('result', {}).get(split, {}).get('masks')
        return bool(recorded) if recorded is not None else osp.isdir(osp.join(self.cfg.data_root, ANN_DIR, split))

    def stage_data(self) -> Dict:
        """Convert the data when ``data_root`` is missing (``data_preparation=dict(type, src, **options)``, see
        :mod:`mmwsss.datasets.converters`), then validate every split. The train split needs defective and
        (unless ``require_defect_free=False``, e.g. NEU-Seg) defect-free images; masks are optional (every
        image of a split that has ``ann_dir/<split>`` needs one)."""
        from mmwsss.datasets.converters import SOURCELESS, convert_dataset
        root = self.cfg.data_root
        prep = dict(self.cfg.get('data_preparation') or {})
        if not osp.isdir(root) and prep:
            kind, src = prep.pop('type'), prep.pop('src', None)
            if src and not osp.isabs(src):
                src = osp.normpath(osp.join(os.getcwd(), src))
            if kind not in SOURCELESS and (not src or not osp.exists(src)):
                raise DatasetLayoutError(f'{root} does not exist and data_preparation.src ({src}) is not there to '
                                         f'convert it from: put (or link) the published {kind} data at that path, '
                                         'or pass --cfg-options data_preparation.src=PATH')
            convert_dataset(kind, src, root, progress=True, **prep)
        check_data_root(root)
        num_classes = len(self._segmenter_classes())
        need_free = self.cfg.get('require_defect_free', True)
        stats = {}
        for split in SPLITS:
            has_masks = osp.isdir(osp.join(root, ANN_DIR, split))
            stats[split] = validate_split(root, split, num_classes, check_masks=has_masks,
                                          require_both=(split == 'train' and need_free))
            stats[split]['masks'] = has_masks
            if split == 'train' and stats[split]['defective'] == 0:
                raise DatasetLayoutError(f'the train split of {root} has no defective images: nothing to learn')
        return stats

    def _segmenter_classes(self) -> List[str]:
        """Class names (background first) of the segmenter's test dataset: its ``metainfo`` or its type's
        ``METAINFO`` (config read once)."""
        if self._classes is None:
            from mmseg.registry import DATASETS
            dataset = self._sub_config('segmenter').test_dataloader.dataset
            classes = (dataset.get('metainfo') or {}).get('classes')
            if classes is None:
                dataset_cls = DATASETS.get(dataset.type)
                if dataset_cls is None:
                    raise KeyError(f'dataset type {dataset.type!r} of the segmenter config is not registered')
                classes = dataset_cls.METAINFO.get('classes')
            if not classes:
                raise ValueError('the segmenter config names no classes: give its test dataset a type with '
                                 'METAINFO or metainfo=dict(classes=...)')
            self._classes = list(classes)
        return self._classes

    @staticmethod
    def _train_and_test(cfg: Config, test: bool = True) -> Dict:
        """Train (resuming an interrupted run) and, with ``test``, test the last checkpoint (segmenters are
        tested later, with their calibrated decision: :meth:`_with_decision`)."""
        cfg.resume = osp.isfile(osp.join(cfg.work_dir, 'last_checkpoint'))
        runner = build_runner(cfg)
        runner.train()
        metrics = runner.test() if test else {}
        with open(osp.join(cfg.work_dir, 'last_checkpoint')) as f:
            checkpoint = f.read().strip()
        return dict(metrics={k: float(v) for k, v in metrics.items()}, checkpoint=checkpoint)

    def _reuse_or_train(self, cfg: Config, key: str, test: bool = True) -> Dict:
        """Use ``<key>.checkpoint`` when the pipeline config gives one (a model trained before, e.g. shared by
        pipelines that differ only in the CAM method), else train; with ``test``, test it."""
        given = self.cfg[key].get('checkpoint')
        if not given:
            return self._train_and_test(cfg, test)
        if not osp.isfile(given):
            raise FileNotFoundError(f'{key}.checkpoint not found: {given}')
        return dict(metrics=self._test_checkpoint(cfg, given) if test else {}, checkpoint=given)

    def stage_classifier(self) -> Dict:
        cfg = self._sub_config('classifier')
        out = self._reuse_or_train(cfg, 'classifier')
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
        from .pseudo_label_generation import generate_pseudo_labels
        cfg = self._classifier_cfg_with_cam()
        checkpoint = self.state['stages']['classifier']['result']['checkpoint']
        model = None
        if cfg.cam.get('compare'):
            from .pseudo_label_generation import load_classifier
            model = load_classifier(cfg, checkpoint, self.device)  # loaded once for every method
        cam = {k: v for k, v in cfg.cam.items() if k != 'compare'}
        cfg.cam = cam
        manifest = generate_pseudo_labels(cfg, checkpoint, self.pseudo_label_dir(), device=self.device, model=model)
        out = dict(manifest=manifest, scores=self._score_labels(self.pseudo_label_dir()), compared={})
        for other in self.cfg.cam.get('compare') or []:
            # another CAM method of the same classifier, scored beside the training labels (not trained on)
            other = dict(other)
            if 'method' not in other:
                raise ConfigKeyError(f'cam.compare entries need a method (and its bg_thr / fg_thr): {other}')
            cfg.cam = dict(cam, **other)
            folder = osp.join(self.work_dir, 'pseudo_labels_compared', other['method'])
            generate_pseudo_labels(cfg, checkpoint, folder, device=self.device, model=model)
            out['compared'][other['method']] = dict(self._score_labels(folder), settings=other)
        return out

    def _score_labels(self, folder: str) -> Dict:
        """IoU of a label folder against the train split's GT masks, or ``not_measured`` without them."""
        from mmwsss.evaluation import score_label_folder
        if not self.has_masks('train'):
            return dict(not_measured=NO_MASKS)
        return score_label_folder(folder, self.cfg.data_root, 'train', self._segmenter_classes())

    def _segmenter_config(self, key: str) -> Config:
        """A segmenter sub-config with its evaluation adapted to the masks this data set has."""
        return configure_evaluation(self._sub_config(key), self.has_masks('val'), self.has_masks('test'))

    def stage_segmenter(self) -> Dict:
        cfg = self._segmenter_config('segmenter')
        cfg.train_dataloader.dataset.pseudo_label_dir = self.pseudo_label_dir()
        if cfg.train_dataloader.dataset.type != 'PseudoLabelDataset':
            raise ValueError('the segmenter config must train on a PseudoLabelDataset (weak supervision only)')
        if self.cfg.segmenter.get('checkpoint'):  # a segmenter trained before on these labels: tested, not trained
            return self._with_decision('segmenter', cfg, self._reuse_or_train(cfg, 'segmenter', test=False))
        init = self._init_from_classifier('segmenter', cfg)
        out = self._train_and_test(cfg, test=False)
        return dict(self._with_decision('segmenter', cfg, out), **init)

    def _init_from_classifier(self, key: str, cfg: Config) -> Dict:
        """With ``<key>.init_from_classifier``: start the backbone of ``cfg`` from the trained classifier
        (:func:`~mmwsss.apis.classifier_backbone_init.init_backbone_from_classifier`); returns
        ``dict(backbone_init=...)`` for the stage result, empty otherwise."""
        if not self.cfg[key].get('init_from_classifier'):
            return {}
        from .classifier_backbone_init import init_backbone_from_classifier
        classifier = self.state['stages'].get('classifier', {})
        if not classifier.get('done'):
            raise PipelineStateError(f'{key}.init_from_classifier needs the finished classifier stage in '
                                     f'{self.work_dir}: run --stages classifier first')
        return dict(backbone_init=init_backbone_from_classifier(cfg, classifier['result']['checkpoint'], key))

    def _with_decision(self, key: str, cfg: Config, out: Dict, decision_file: Optional[str] = None,
                       gated_decision_file: Optional[str] = None) -> Dict:
        """Calibrate the OK / NG decision of a trained segmenter on the val split, then score the test split
        with it: ``out`` gains ``decision`` (also ``decision_file``, default ``<work_dir>/<key>/decision.json``,
        read by ``tools/predict.py``) and ``summary``; with ``<key>.class_gate`` also ``class_gated``, its decision
        in ``gated_decision_file`` (default ``<work_dir>/<key>/``:data:`GATED_DECISION_FILE`; refinement rounds
        write their own, so that the segmenter stage's files stay those of its own model)."""
        decision = self.calibrate_decision(key, out['checkpoint'], decision_file)
        tested = copy.deepcopy(cfg)
        for evaluator in tested.test_evaluator:
            if evaluator.get('type') == 'ImageLevelMetric':
                evaluator['score_thr'] = decision['score_thr']
        out['metrics'] = self._test_checkpoint(tested, out['checkpoint'])
        out['decision'] = decision
        out['summary'] = self._seg_summary(out['metrics'], self._segmenter_classes())
        if self.cfg[key].get('class_gate', CLASS_GATE_DEFAULT[key]):
            gate = self._classifier_gate(key)
            gated_decision = self.calibrate_decision(
                key, out['checkpoint'], gated_decision_file or osp.join(self.work_dir, key, GATED_DECISION_FILE),
                gate=gate)
            gated = tta_config(cfg, None, gate=gate)
            for evaluator in gated.test_evaluator:
                if evaluator.get('type') == 'ImageLevelMetric':
                    evaluator['score_thr'] = gated_decision['score_thr']
            metrics = self._test_checkpoint(gated, out['checkpoint'], tag='test_class_gated_')
            out['class_gated'] = dict(metrics=metrics, decision=gated_decision,
                                      summary=self._seg_summary(metrics, self._segmenter_classes()))
        return out

    def _classifier_gate(self, key: str) -> Dict:
        """``<key>.class_gate``: the finished classifier stage's model as the segmenter's class gate
        (:class:`~mmwsss.models.ClassifierGate`), its config written beside its checkpoint; recall-calibrated
        at ``<key>.class_gate_recall`` (default :data:`CLASS_GATE_RECALL`; None: the plain probabilities), applied
        as ``<key>.class_gate_mode`` (default :data:`CLASS_GATE_MODE`)."""
        classifier = self.state['stages'].get('classifier', {})
        if not classifier.get('done'):
            raise PipelineStateError(f'{key}.class_gate needs the finished classifier stage in {self.work_dir}: run '
                                     '--stages classifier first')
        path = osp.join(self.work_dir, 'classifier', 'class_gate_classifier.py')
        self._sub_config('classifier').dump(path)
        gate = dict(config=path, checkpoint=classifier['result']['checkpoint'],
                    mode=self.cfg[key].get('class_gate_mode', CLASS_GATE_MODE))
        recall = self.cfg[key].get('class_gate_recall', CLASS_GATE_RECALL)
        if recall is not None:  # the recall floors from the classifier's val split (image labels, no mask)
            from mmwsss.models.class_gate import ClassifierGate
            gate['floors'] = ClassifierGate(**gate, device=self.device).calibrate(recall)
            gate['recall'] = recall
        return gate

    def calibrate_decision(self, key: str, checkpoint: str, path: Optional[str] = None,
                           gate: Optional[Dict] = None) -> Dict:
        """The OK / NG rule of a segmenter, calibrated on the val split without masks: NG when at least
        ``min_area`` pixels have defect probability >= ``score_thr``, with ``score_thr`` the F1-optimal image
        score threshold on val (:func:`~mmwsss.evaluation.image_level_scores.best_f1_threshold`; 0.5 when val
        has no defective image). Written to ``decision.json``. With ``gate`` (:meth:`_classifier_gate`) the
        probabilities are the class-gated ones (``tools/predict.py --class-gate --decision <that file>``)."""
        cfg = self._sub_config(key)
        cfg.test_dataloader = copy.deepcopy(cfg.val_dataloader)
        cfg.test_dataloader.dataset.pipeline = without_masks(cfg.test_dataloader.dataset.pipeline)
        cfg.test_evaluator = [dict(type='ImageLevelMetric')]
        if gate is not None:
            cfg = tta_config(cfg, None, gate=gate)
        val = self._test_checkpoint(cfg, checkpoint, tag='calibrate_class_gated_' if gate else 'calibrate_')
        val = {k.split('/', 1)[1]: v for k, v in val.items() if k.startswith('image/')}
        thr = val.get('best_f1_threshold')
        decision = dict(rule='NG if at least min_area pixels have defect probability (1 - p_background) >= score_thr',
                        score_thr=0.5 if thr is None else round(float(thr), 4), min_area=1, calibrated_on='val',
                        calibration='F1-optimal image score (highest defect probability) on the val split',
                        val=val, checkpoint=checkpoint, **(dict(class_gate=dict(gate)) if gate else {}))
        path = path or osp.join(self.work_dir, key, DECISION_FILE)
        atomic_write_text(path, json.dumps(decision, indent=2))
        return dict(decision, path=path)

    @staticmethod
    def _seg_summary(metrics: Dict, classes: List[str]) -> Dict:
        """Pixel IoU (fractions; ``None`` and ``not_measured`` without test masks), ``image_level`` and
        ``pixel_level`` (AUROC, AUPRO, F1-max; empty without test masks)."""
        out = dict(
            miou=_percent_to_fraction(metrics.get('mIoU')),
            defect_miou=_percent_to_fraction(metrics.get('defect_mIoU')),
            defect_iou={c: _percent_to_fraction(metrics.get(f'IoU.{c}')) for c in classes[1:]},
            iou={c: _percent_to_fraction(metrics.get(f'IoU.{c}')) for c in classes},
            image_level={k.split('/', 1)[1]: int(v) if k in COUNT_KEYS else v for k, v in metrics.items()
                         if k.startswith('image/')},
            pixel_level={k.split('/', 1)[1]: int(v) if k in COUNT_KEYS else v for k, v in metrics.items()
                         if k.startswith('pixel/')})
        if 'mIoU' not in metrics:
            out['not_measured'] = NO_MASKS
        return out

    @staticmethod
    def _test_checkpoint(cfg: Config, checkpoint: str, tag: str = 'test_') -> Dict:
        cfg = test_only_config(cfg, checkpoint)
        cfg.work_dir = osp.join(cfg.work_dir, tag + osp.splitext(osp.basename(checkpoint))[0])
        return {k: float(v) for k, v in build_runner(cfg).test().items()}

    def stage_refinement(self) -> Dict:
        ref = dict(self.cfg.get('refinement') or {})
        rounds = int(ref.pop('rounds', 0))
        if rounds <= 0:
            return dict(rounds=[], skipped='refinement.rounds is 0')
        cfg = self._segmenter_config('segmenter')
        cfg.work_dir = osp.join(self.work_dir, 'refinement')
        per_round = int(ref.pop('iters_per_round', cfg.train_cfg.max_iters))
        if per_round <= 0:
            raise ValueError(f'refinement.iters_per_round must be > 0, got {per_round}')
        cfg.train_dataloader.dataset.pseudo_label_dir = self.pseudo_label_dir()
        cfg.train_cfg.max_iters = rounds * per_round
        cfg.train_cfg.val_interval = rounds * per_round
        cfg.default_hooks.checkpoint = dict(type='CheckpointHook', by_epoch=False, interval=per_round,
                                            max_keep_ckpts=rounds)
        label_root = osp.join(self.work_dir, 'refined_labels')
        hook = dict(type='IterativeRefineHook', at_start=True, iters=[per_round * r for r in range(1, rounds)],
                    out_dir=label_root, **ref)
        cfg.custom_hooks = list(cfg.get('custom_hooks', [])) + [hook]
        if osp.isfile(osp.join(cfg.work_dir, 'last_checkpoint')):
            cfg.load_from, cfg.resume = None, True  # an interrupted refinement run: resume it (round included)
        else:
            cfg.load_from, cfg.resume = self.state['stages']['segmenter']['result']['checkpoint'], False
        build_runner(cfg).train()
        out, labels, scores = [], None, None
        for r in range(1, rounds + 1):
            checkpoint = osp.join(cfg.work_dir, f'iter_{per_round * r}.pth')
            relabelled = osp.isdir(osp.join(label_root, f'round_{r}'))  # no folder: min_change stopped the rounds
            if relabelled or labels is None:
                labels = osp.join(label_root, f'round_{r}')
                scores = self._score_labels(labels)
            tested = self._with_decision(
                'segmenter', cfg, dict(checkpoint=checkpoint), osp.join(cfg.work_dir, f'decision_round_{r}.json'),
                osp.join(cfg.work_dir, f'decision_class_gated_round_{r}.json'))
            out.append(dict(
                round=r,
                relabelled=relabelled,
                label_dir=labels,
                checkpoint=checkpoint,
                pseudo_labels=scores,
                segmenter=tested['summary'],
                decision=tested['decision'],
                **self._gated_summary(tested)))
        return dict(rounds=out, iters_per_round=per_round)

    def stage_fully_supervised(self) -> Dict:
        if not (self.cfg.get('fully_supervised') or {}).get('config'):
            return dict(skipped='no fully_supervised.config')
        if not self.has_masks('train'):
            return dict(skipped='the train split has no masks to train on')
        cfg = self._segmenter_config('fully_supervised')
        train_set = cfg.train_dataloader.dataset
        if train_set.type == 'PseudoLabelDataset' and train_set.get('pseudo_label_dir') is not None:
            raise ValueError('the fully supervised config must train on the GT masks: its train PseudoLabelDataset '
                             'needs pseudo_label_dir=None')
        given = self.cfg.fully_supervised.get('checkpoint')  # a trained model: nothing to initialise
        init = {} if given else self._init_from_classifier('fully_supervised', cfg)
        out = self._reuse_or_train(cfg, 'fully_supervised', test=False)
        return dict(self._with_decision('fully_supervised', cfg, out), **init)

    def stage_report(self) -> Dict:
        from .report import write_report
        return write_report(self)

    @staticmethod
    def _gated_summary(result: Dict) -> Dict:
        """``class_gated``: a segmenter's test scores with the class gate, when the stage measured them."""
        gated = result.get('class_gated')
        if gated is None:
            return {}
        return dict(class_gated=dict(gated['summary'], decision=short_decision(gated.get('decision'))))

    def results(self) -> Dict:
        """The ``results.json`` content (contract keys: dataset, cam_method, classifier.accuracy,
        pseudo_labels.{miou, defect_iou} (with ``cam.contrast_prior``: ``.contrast_prior_classes``, per class with
        small regions whether the prior narrowed it), segmenter.{miou, defect_iou}, seconds, rounds[{round,
        pseudo_labels, segmenter}], fully_supervised.{miou, defect_iou}, ratio_to_fully_supervised; with
        ``class_gate``: segmenter / fully_supervised ``.class_gated.{miou, defect_miou, defect_iou, ...}``)."""
        st = self.state['stages']
        pl = st['pseudo_labels']['result']
        classes = self._segmenter_classes()

        def label_scores(scores: Dict) -> Dict:
            if 'not_measured' in scores:
                return dict(miou=None, defect_miou=None, defect_iou={c: None for c in classes[1:]},
                            ignored_fraction=None, not_measured=scores['not_measured'])
            out = {k: scores[k] for k in ('miou', 'defect_miou', 'defect_iou', 'ignored_fraction')}
            if 'decided' in scores:  # the band left out (folders scored before this key existed lack it)
                out['decided'] = {k: scores['decided'][k] for k in ('miou', 'defect_miou', 'defect_iou')}
            return out

        out = dict(
            dataset=self.cfg.dataset_name,
            data_root=self.cfg.data_root,
            cam_method=pl['manifest']['method'],
            thresholds=dict(bg_thr=pl['manifest']['bg_thr'], fg_thr=pl['manifest']['fg_thr']),
            classifier=dict(st['classifier']['result']['summary'], config=self.cfg.classifier['config']),
            pseudo_labels=dict(label_scores(pl['scores']), split='train',
                               compared={m: label_scores(v) for m, v in pl.get('compared', {}).items()},
                               **{k: pl['manifest'][k] for k in ('contrast_prior_classes', ) if k in pl['manifest']}),
            segmenter=dict(st['segmenter']['result']['summary'], split='test',
                           config=self.cfg.segmenter['config'],
                           decision=short_decision(st['segmenter']['result'].get('decision')),
                           **self._gated_summary(st['segmenter']['result'])),
            seconds={k: v['seconds'] for k, v in st.items() if 'seconds' in v})
        rounds = [dict(round=0, pseudo_labels=label_scores(pl['scores']),
                       segmenter=st['segmenter']['result']['summary'],
                       **self._gated_summary(st['segmenter']['result']))]
        for r in st.get('refinement', {}).get('result', {}).get('rounds', []):
            rounds.append(dict(round=r['round'], segmenter=r['segmenter'],
                               pseudo_labels=label_scores(r['pseudo_labels']),
                               **({'class_gated': r['class_gated']} if 'class_gated' in r else {})))
        out['rounds'] = rounds
        full = st.get('fully_supervised', {}).get('result', {}).get('summary')
        if full is not None:
            out['fully_supervised'] = dict(full, split='test', config=self.cfg.fully_supervised['config'],
                                           decision=short_decision(st['fully_supervised']['result'].get('decision')),
                                           **self._gated_summary(st['fully_supervised']['result']))
            final = rounds[-1]['segmenter']

            def ratio(key):
                weak, strong = final.get(key), full.get(key)
                return None if weak is None or not strong else round(weak / strong, 4)

            # headline: defect-mIoU of the last round's segmenter / the fully supervised one (test split)
            out['ratio_to_fully_supervised'] = ratio('defect_miou')
            out['ratio_to_fully_supervised_miou'] = ratio('miou')
        return out
