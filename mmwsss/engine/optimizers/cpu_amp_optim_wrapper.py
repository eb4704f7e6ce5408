"""``CPUAmpOptimWrapper`` (mmengine OPTIM_WRAPPERS): mixed precision on a CPU with bf16 support.

mmengine 0.10.7's ``AmpOptimWrapper`` refuses to build without an accelerator. On a CPU the useful mixed
precision is bfloat16 (AVX-512 bf16 / AMX): it has fp32's exponent range, so no loss scaling is needed and
this wrapper only runs the forward pass (and the loss) inside ``torch.autocast('cpu', dtype=bfloat16)``;
parameters, gradients and optimizer state stay fp32. ``--amp`` picks it when no GPU is present
(:func:`mmwsss.apis.runner_config.enable_amp`).
"""
from contextlib import contextmanager

import torch
from mmengine.optim import OptimWrapper
from mmengine.registry import OPTIM_WRAPPERS
from torch import nn


def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes bf16 natively (x86 AVX-512 BF16 or AMX). Elsewhere bf16 autocast is emulated
    and slower than fp32, so ``--amp`` keeps fp32 there."""
    checks = (getattr(torch.cpu, name, None) for name in ('_is_avx512_bf16_supported', '_is_amx_tile_supported'))
    return any(check() for check in checks if check is not None)


@OPTIM_WRAPPERS.register_module()
class CPUAmpOptimWrapper(OptimWrapper):
    """Args:
        dtype: autocast dtype, ``'bfloat16'`` (default) or ``'float16'`` (slow on most CPUs).
        **kwargs: :class:`mmengine.optim.OptimWrapper` arguments (``optimizer``, ``clip_grad``, ...).
    """

    valid_dtypes = ('bfloat16', 'float16')

    def __init__(self, dtype: str = 'bfloat16', **kwargs) -> None:
        if dtype not in self.valid_dtypes:
            raise ValueError(f'CPUAmpOptimWrapper dtype must be one of {self.valid_dtypes}, got {dtype!r}')
        super().__init__(**kwargs)
        self.cast_dtype = getattr(torch, dtype)

    @contextmanager
    def optim_context(self, model: nn.Module):
        with super().optim_context(model), torch.autocast('cpu', dtype=self.cast_dtype):
            yield
