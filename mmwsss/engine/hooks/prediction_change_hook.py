"""``PredictionChangeHook``: how much a segmenter's validation predictions still change, a mask-free convergence
signal."""
import math
from typing import Dict, Optional

import torch
from mmengine.dist import all_reduce
from mmengine.hooks import Hook
from mmengine.registry import HOOKS
from torch import Tensor


@HOOKS.register_module()
class PredictionChangeHook(Hook):
    """After every validation, compare each validation image's predicted label map ``y_t`` with the one of the
    previous validation ``y_{t-1}``, over all validation pixels ``p``:

        pixel_change  = #{p : y_t(p) != y_{t-1}(p)} / #{p}
        defect_change = #{p : y_t(p) != y_{t-1}(p)} / #{p : y_t(p) > 0  or  y_{t-1}(p) > 0}

    ``defect_change`` is 1 - the pixel agreement on the union of what either round calls a defect, so it does not
    shrink with the defects' share of the image. Neither needs a mask: a user with OK / NG folders sees whether the
    segmenter has settled. Both go into the validation metrics (logged as ``val/defect_change``), where mmengine's
    ``EarlyStoppingHook(monitor='defect_change', rule='less', stopping_threshold=...)`` can stop on them.

    Args:
        max_side: the maps are kept (uint8, on the CPU) strided to at most this many pixels per side.

    The first validation, and the first after a resume (the maps are not checkpointed), has no previous maps and
    reports nothing. Distributed validation sums the counts over the ranks (each rank sees the same images every
    round: the validation sampler does not shuffle).
    """

    priority = 'NORMAL'  # after RuntimeInfoHook, before LoggerHook (BELOW_NORMAL) and EarlyStoppingHook (LOWEST)

    def __init__(self, max_side: int = 128) -> None:
        if max_side < 1:
            raise ValueError(f'PredictionChangeHook max_side must be >= 1, got {max_side}')
        self.max_side = int(max_side)
        self._previous: Dict[str, Tensor] = {}
        self._current: Dict[str, Tensor] = {}

    def before_val_epoch(self, runner) -> None:
        self._current = {}

    def after_val_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        for sample in outputs or []:
            pred = sample.pred_sem_seg.data[0]  # (H, W) class ids
            step = max(1, math.ceil(max(pred.shape) / self.max_side))
            key = sample.metainfo.get('img_path', f'{batch_idx}:{len(self._current)}')
            self._current[key] = pred[::step, ::step].to('cpu', torch.uint8).flatten()

    def after_val_epoch(self, runner, metrics: Optional[Dict[str, float]] = None) -> None:
        keys = [k for k in self._current if k in self._previous and self._previous[k].shape == self._current[k].shape]
        counts = torch.zeros(3, dtype=torch.float64)
        if keys:
            prev = torch.cat([self._previous[k] for k in keys])
            cur = torch.cat([self._current[k] for k in keys])
            counts = torch.tensor([(prev != cur).sum(), ((prev > 0) | (cur > 0)).sum(), cur.numel()],
                                  dtype=torch.float64)
        all_reduce(counts)  # in place; nothing to do outside torch.distributed
        self._previous, self._current = self._current, {}
        changed, union, total = counts.tolist()
        if total == 0:
            return
        values = dict(pixel_change=changed / total, defect_change=changed / union if union else 0.0)
        for name, value in values.items():
            runner.message_hub.update_scalar(f'val/{name}', value)
            if metrics is not None:
                metrics[name] = value
