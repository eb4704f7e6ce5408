"""IterativeRefineHook in real mmengine runners (iteration- and epoch-based) on a tiny synthetic set."""
import os
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.testing import RunnerTestCase

import mmwsss  # noqa: F401
from mmwsss.datasets.layout import read_image, read_image_labels
from mmwsss.engine import refine_pseudo_labels
from mmwsss.engine.hooks.iterative_refine_hook import find_pseudo_label_dataset

# ---------------------------------------------------------------- the fusion rule, by hand


def test_replace_applies_image_constraints_and_confidence():
    # 3 pixels (bg, k1, k2): (0.1, 0.2, 0.7), (0.1, 0.8, 0.1), (0.8, 0.0, 0.2)
    probs = torch.stack([torch.tensor([0.1, 0.2, 0.7]), torch.tensor([0.1, 0.8, 0.1]),
                         torch.tensor([0.8, 0.0, 0.2])], -1).reshape(1, 3, 1, 3)
    labels = torch.zeros(1, 1, 3, dtype=torch.uint8)
    # class 2 absent from the image label: pixel 0 (0.1, 0.2, 0.7) renormalizes to bg 1/3, k1 2/3
    out = refine_pseudo_labels(probs, labels, torch.tensor([[True, False]]), 'replace', conf_thr=0.6)
    assert out.tolist() == [[[1, 1, 0]]]
    out = refine_pseudo_labels(probs, labels, torch.tensor([[True, False]]), 'replace', conf_thr=0.7)
    assert out.tolist() == [[[255, 1, 0]]], 'below the confidence threshold -> ignore'
    out = refine_pseudo_labels(probs, labels, torch.tensor([[False, False]]), 'replace', conf_thr=0.7)
    assert out.tolist() == [[[0, 0, 0]]], 'defect-free image: all background'


def test_average_needs_a_margin_and_agree_keeps_consensus():
    probs = torch.stack([torch.tensor([0.3, 0.05, 0.4]), torch.tensor([0.7, 0.95, 0.6])], 0).reshape(1, 2, 1, 3)
    labels = torch.tensor([[[0, 0, 255]]], dtype=torch.uint8)
    mask = torch.tensor([[True]])
    # average, w = 0.3: pixel 0: bg 0.7*0.3+0.3 = 0.51 vs k1 0.49 -> keeps 0; pixel 1: k1 0.665 wins
    out = refine_pseudo_labels(probs, labels, mask, 'average', conf_thr=0.5, label_weight=0.3)
    assert out.tolist() == [[[0, 1, 1]]]
    # agree: the model says k1 on pixels 0 and 1 where the label says 0 -> ignored; pixel 2 had no label
    out = refine_pseudo_labels(probs, labels, mask, 'agree', conf_thr=0.5)
    assert out.tolist() == [[[255, 255, 1]]]
    with pytest.raises(ValueError, match='mode must be one of'):
        refine_pseudo_labels(probs, labels, mask, 'vote')


def test_keep_lost_classes_restores_only_erased_image_classes():
    # 1 image, 4 pixels, K = 2; the model is sure of background everywhere
    probs = torch.tensor([0.9, 0.05, 0.05]).view(1, 3, 1, 1).expand(1, 3, 1, 4).clone()
    labels = torch.tensor([[[1, 1, 2, 255]]], dtype=torch.uint8)
    both = torch.tensor([[True, True]])
    assert refine_pseudo_labels(probs, labels, both, 'replace').tolist() == [[[0, 0, 0, 0]]]
    out = refine_pseudo_labels(probs, labels, both, 'replace', keep_lost_classes=True)
    assert out.tolist() == [[[1, 1, 2, 0]]], 'erased classes come back on their old pixels only'
    # class 2 not in the image label: never restored; class 1 still present somewhere: nothing restored
    out = refine_pseudo_labels(probs, labels, torch.tensor([[True, False]]), 'replace', keep_lost_classes=True)
    assert out.tolist() == [[[1, 1, 0, 0]]]
    probs[0, :, 0, 1] = torch.tensor([0.05, 0.9, 0.05])  # the model keeps class 1 on pixel 1
    out = refine_pseudo_labels(probs, labels, both, 'replace', keep_lost_classes=True)
    assert out.tolist() == [[[0, 1, 2, 0]]], 'class 1 survived on pixel 1: only the lost class 2 is restored'
    # defect-free images stay all background; batched images are independent
    probs2 = torch.cat([probs, probs])
    labels2 = torch.cat([labels, labels])
    out = refine_pseudo_labels(probs2, labels2, torch.tensor([[True, True], [False, False]]), 'replace',
                               keep_lost_classes=True)
    assert out.tolist() == [[[0, 1, 2, 0]], [[0, 0, 0, 0]]]


# ---------------------------------------------------------------- the hook in runners


def _seg_config(root, labels_dir, work_dir, train_cfg, hook, num_workers=0):
    mean, std = [123.675, 116.28, 103.53], [58.395, 57.12, 57.375]
    train_pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'), dict(type='PackSegInputs')]
    test_pipeline = [dict(type='LoadImageFromFile'), dict(type='Resize', scale=(64, 64), keep_ratio=False),
                     dict(type='LoadAnnotations'), dict(type='PackSegInputs')]

    def split(name, pipeline):
        return dict(type='SyntheticDefectDataset', data_root=root, ann_file=f'image_labels/{name}.txt',
                    data_prefix=dict(img_path=f'img_dir/{name}', seg_map_path=f'ann_dir/{name}'),
                    pipeline=pipeline)

    by_epoch = train_cfg.get('by_epoch', False)
    return Config(
        dict(
            default_scope='mmseg',
            work_dir=work_dir,
            model=dict(
                type='EncoderDecoder',
                data_preprocessor=dict(type='SegDataPreProcessor', mean=mean, std=std, bgr_to_rgb=True,
                                       pad_val=0, seg_pad_val=255, size=(64, 64)),
                backbone=dict(type='ResNetV1c', depth=18, stem_channels=8, base_channels=8, out_indices=(3, ),
                              strides=(1, 2, 2, 1), dilations=(1, 1, 1, 2)),
                decode_head=dict(type='FCNHead', in_channels=64, channels=8, num_convs=1, concat_input=False,
                                 num_classes=4, in_index=0, norm_cfg=dict(type='BN'),
                                 loss_decode=dict(type='CrossEntropyLoss')),
                train_cfg=dict(),
                test_cfg=dict(mode='whole')),
            train_dataloader=dict(
                batch_size=4, num_workers=num_workers, persistent_workers=num_workers > 0,
                sampler=dict(type='DefaultSampler' if by_epoch else 'InfiniteSampler', shuffle=True, seed=0),
                dataset=dict(type='PseudoLabelDataset', pseudo_label_dir=labels_dir,
                             dataset=split('train', train_pipeline))),
            test_dataloader=dict(batch_size=1, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
                                 dataset=split('test', test_pipeline)),
            test_cfg=dict(type='TestLoop'),
            test_evaluator=dict(type='DefectIoUMetric'),
            train_cfg=train_cfg,
            optim_wrapper=dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.01, momentum=0.9)),
            default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=4, by_epoch=by_epoch),
                               logger=dict(type='LoggerHook', interval=50)),
            custom_hooks=[dict(type='IterativeRefineHook', batch_size=5, **hook)],
            env_cfg=dict(dist_cfg=dict(backend='gloo')),
            randomness=dict(seed=0),
            log_level='WARNING'))


def _hook(runner):
    from mmwsss.engine import IterativeRefineHook
    return next(h for h in runner.hooks if isinstance(h, IterativeRefineHook))


class TestIterativeRefineHook(RunnerTestCase):

    def setUp(self):
        super().setUp()
        from mmwsss.datasets.synthetic_defects import SyntheticSpec, write_synthetic_dataset
        self.root = osp.join(self.temp_dir.name, 'data')
        write_synthetic_dataset(self.root, SyntheticSpec(size=64, num_train=12, num_val=2, num_test=2, seed=5))
        # round 0: the GT masks with a 255 border (stand-in for CAM pseudo-labels)
        self.labels0 = osp.join(self.temp_dir.name, 'round0')
        os.makedirs(self.labels0)
        for name in os.listdir(osp.join(self.root, 'ann_dir', 'train')):
            mask = read_image(osp.join(self.root, 'ann_dir', 'train', name)).copy()
            mask[:2] = 255
            from mmwsss.utils.atomic_io import atomic_write_png
            atomic_write_png(osp.join(self.labels0, name), mask)

    def _cfg(self, train_cfg, work='work', num_workers=0, **hook):
        return _seg_config(self.root, self.labels0, osp.join(self.temp_dir.name, work), train_cfg,
                           dict(dict(interval=2, mode='replace', conf_thr=0.0), **hook), num_workers)

    def test_fires_at_interval_in_iter_loop_and_serves_new_masks(self):
        runner = self.build_runner(self._cfg(dict(by_epoch=False, max_iters=7)))
        runner.train()
        hook = _hook(runner)
        assert [r['iter'] for r in hook.history] == [2, 4, 6] and hook.round == 3
        dataset = find_pseudo_label_dataset(runner.train_dataloader.dataset)
        assert dataset.pseudo_label_dir == hook.label_dir == osp.join(runner.work_dir, 'refined_labels', 'round_3')
        # the dataset really serves the round's masks
        item = dataset[0]
        on_disk = read_image(dataset.get_data_info(0)['seg_map_path'])
        assert dataset.get_data_info(0)['seg_map_path'].startswith(hook.label_dir)
        assert np.array_equal(item['data_samples'].gt_sem_seg.data[0].numpy(), on_disk)
        # constraints: defect-free images are all background, no class outside the image label
        names = dict(read_image_labels(osp.join(self.root, 'image_labels', 'train.txt')))
        for name, labels in names.items():
            mask = read_image(osp.join(hook.label_dir, osp.splitext(name)[0] + '.png'))
            present = set(np.unique(mask).tolist()) - {0, 255}
            assert present <= set(labels), (name, present, labels)
            if not labels:
                assert not mask.any(), name
        # monitoring against GT is logged, never trained on
        assert 'defect_miou' in hook.history[-1]['pseudo_labels']
        assert osp.isfile(osp.join(hook.label_dir, 'manifest.json'))

    def test_images_of_different_sizes_relabel_at_their_own_size(self):
        # native-resolution data (MTD: 103-632 px wide): a batch of mixed sizes made SegDataPreProcessor refuse
        # to stack it ('The image size in a batch should be the same') before the hook batched per size
        from mmwsss.utils.atomic_io import atomic_write_png
        names = sorted(os.listdir(osp.join(self.root, 'ann_dir', 'train')))[::2]
        for name in names:  # every other training image cropped to 48 x 64 (image, GT and round-0 labels)
            for folder in (osp.join(self.root, 'img_dir', 'train'), osp.join(self.root, 'ann_dir', 'train'),
                           self.labels0):
                atomic_write_png(osp.join(folder, name), read_image(osp.join(folder, name))[:48].copy())
        pipeline = [dict(type='LoadImageFromFile'), dict(type='PackSegInputs')]  # no resize: native size
        runner = self.build_runner(self._cfg(dict(by_epoch=False, max_iters=3), work='sizes', pipeline=pipeline))
        runner.train()
        hook = _hook(runner)
        assert hook.round == 1
        for name in os.listdir(self.labels0):
            expected = read_image(osp.join(self.labels0, name)).shape
            assert read_image(osp.join(hook.label_dir, name)).shape == expected, name
        assert sum(read_image(osp.join(hook.label_dir, n)).shape[0] == 48 for n in names) == len(names) == 6

    def test_explicit_iters_and_epoch_loop(self):
        # 12 images, batch 4: 3 iterations per epoch; fires after iterations 2 and 5 (not at the final, 6)
        runner = self.build_runner(self._cfg(dict(by_epoch=True, max_epochs=2), iters=[2, 5, 6], interval=None))
        runner.train()
        assert [r['iter'] for r in _hook(runner).history] == [2, 5]

    def test_min_change_stops_once_a_round_changes_little(self):
        # every round of a model that barely trains changes some pixels, never all of them
        runner = self.build_runner(self._cfg(dict(by_epoch=False, max_iters=7), work='stop', min_change=1.0))
        runner.train()
        hook = _hook(runner)
        assert [r['iter'] for r in hook.history] == [2], 'rounds at 4 and 6 skipped: round 1 changed < 100 %'
        assert hook.history[0]['changed_fraction'] < 1.0 and hook.history[0]['stopped'] and hook.converged()
        runner = self.build_runner(self._cfg(dict(by_epoch=False, max_iters=7), work='nostop', min_change=0.0))
        runner.train()
        assert [r['iter'] for r in _hook(runner).history] == [2, 4, 6]

    def test_at_start_refines_before_training(self):
        runner = self.build_runner(self._cfg(dict(by_epoch=False, max_iters=3), at_start=True, interval=None))
        runner.train()
        assert [r['iter'] for r in _hook(runner).history] == [0]

    def test_resume_restores_round_and_folder(self):
        cfg = self._cfg(dict(by_epoch=False, max_iters=4), work='resume')
        runner = self.build_runner(cfg)
        runner.train()
        assert _hook(runner).round == 1  # round at iter 2; iter 4 is final
        cfg2 = self._cfg(dict(by_epoch=False, max_iters=8), work='resume')
        cfg2.resume = True
        runner2 = self.build_runner(cfg2)
        hook2 = _hook(runner2)
        seen = {}
        original = hook2.refine

        def spy(r):
            seen.setdefault('dir_before', find_pseudo_label_dataset(r.train_dataloader.dataset).pseudo_label_dir)
            seen.setdefault('round_before', hook2.round)
            return original(r)

        hook2.refine = spy
        runner2.train()
        assert seen['round_before'] == 1 and seen['dir_before'].endswith('round_1'), seen
        assert hook2.round == 2 and [r['iter'] for r in hook2.history] == [2, 6]

    def test_interrupted_round_leaves_previous_round_in_use(self):
        runner = self.build_runner(self._cfg(dict(by_epoch=False, max_iters=3)))
        runner.train()
        hook = _hook(runner)
        before = {n: read_image(osp.join(hook.label_dir, n)).copy() for n in os.listdir(hook.label_dir)
                  if n.endswith('.png')}
        import mmwsss.engine.hooks.iterative_refine_hook as module
        calls = {'n': 0}
        real = module.atomic_write_png

        def failing(path, array):
            calls['n'] += 1
            if calls['n'] == 3:
                raise OSError('disk full (simulated)')
            real(path, array)

        module.atomic_write_png = failing
        try:
            with pytest.raises(OSError, match='disk full'):
                hook.refine(runner)
        finally:
            module.atomic_write_png = real
        root = osp.dirname(hook.label_dir)
        assert hook.round == 1 and not osp.isdir(osp.join(root, 'round_2'))
        dataset = find_pseudo_label_dataset(runner.train_dataloader.dataset)
        assert dataset.pseudo_label_dir == hook.label_dir
        for n, arr in before.items():
            assert np.array_equal(read_image(osp.join(hook.label_dir, n)), arr)
        hook.refine(runner)  # the next round cleans the partial folder and completes
        assert hook.round == 2 and osp.isdir(osp.join(root, 'round_2'))
        assert not any(n.endswith('.partial') for n in os.listdir(root))

    def test_worker_processes_get_the_new_masks(self):
        """With persistent workers the loader is restarted: batches after a round come from its masks."""
        runner = self.build_runner(self._cfg(dict(by_epoch=False, max_iters=3), num_workers=1, interval=1,
                                             mode='replace'))
        runner.train()
        hook = _hook(runner)
        batch = next(runner.train_loop.dataloader_iterator)
        for sample in batch['data_samples']:
            name = osp.splitext(osp.basename(sample.img_path))[0] + '.png'
            expected = read_image(osp.join(hook.label_dir, name))
            assert np.array_equal(sample.gt_sem_seg.data[0].numpy(), expected), name

    def test_dataset_without_image_labels_is_refused(self):
        """A stock mmseg dataset carries no image_labels: refining would turn every mask into background."""
        cfg = self._cfg(dict(type='IterBasedTrainLoop', max_iters=2), at_start=True, interval=None, iters=[])
        inner = cfg.train_dataloader.dataset.dataset
        cfg.train_dataloader.dataset.dataset = dict(
            type='BaseSegDataset', data_root=inner['data_root'], data_prefix=inner['data_prefix'],
            img_suffix='.png', seg_map_suffix='.png', pipeline=inner['pipeline'],
            metainfo=dict(classes=('background', 'scratch', 'pit', 'stain')))
        runner = self.build_runner(cfg)
        with pytest.raises(ValueError, match='gives no image_labels.*turn to background'):
            runner.train()

    def test_bad_arguments(self):
        from mmwsss.engine import IterativeRefineHook
        with pytest.raises(ValueError, match='min_change must be in'):
            IterativeRefineHook(interval=2, min_change=1.5)
        with pytest.raises(ValueError, match='exactly one of interval= and iters='):
            IterativeRefineHook()
        with pytest.raises(ValueError, match='mode must be one of'):
            IterativeRefineHook(interval=2, mode='vote')
        with pytest.raises(TypeError, match='needs a PseudoLabelDataset'):
            find_pseudo_label_dataset(object())
