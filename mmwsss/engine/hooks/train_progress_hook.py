"""``TrainProgressHook`` (mmengine HOOKS): one progress bar for a training run, on stderr.

``tools/run_pipeline.py`` sends the runners' console logs to their log files (``<work_dir>/<stage>/<time>/``)
and shows this bar instead: iterations done / total, the running loss and the time left. Resumed runs start
the bar where they left off. Only rank 0 draws.
"""
import sys
from typing import Optional

from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.registry import HOOKS


@HOOKS.register_module()
class TrainProgressHook(Hook):
    """Args:
        desc: the bar's label (e.g. the pipeline stage).
    """

    priority = 'VERY_LOW'

    def __init__(self, desc: str = 'train') -> None:
        self.desc = desc
        self._bar = None

    def before_train(self, runner) -> None:
        if not is_main_process():
            return
        from tqdm import tqdm
        loop = runner.train_loop
        total = getattr(loop, 'max_iters', None)
        if total is None:
            total = loop.max_epochs * len(loop.dataloader)
        self._bar = tqdm(total=total, initial=runner.iter, desc=self.desc, unit='it', file=sys.stderr,
                         dynamic_ncols=True)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs: Optional[dict] = None) -> None:
        if self._bar is None:
            return
        self._bar.update(1)
        loss = (outputs or {}).get('loss')
        if loss is not None:
            self._bar.set_postfix(loss=f'{float(loss.detach()) if hasattr(loss, "detach") else float(loss):.3f}',
                                  refresh=False)

    def after_train(self, runner) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
