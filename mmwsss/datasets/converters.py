"""Name -> converter, for ``data_preparation=dict(type=<name>, src=..., **options)`` in pipeline configs.

Every converter takes ``(src, out_dir, **options)``, writes the mmwsss layout atomically, resumes, and never
modifies ``src``. ``synthetic`` has no source: it renders the embedded procedural set (``spec=dict(...)``).
"""
from typing import Callable, Dict


def _synthetic(src, out_dir, spec=None, **kwargs):
    from .synthetic_defects import SyntheticSpec, write_synthetic_dataset
    if src:
        raise ValueError('data_preparation type synthetic takes no src')
    return write_synthetic_dataset(out_dir, SyntheticSpec(**(spec or {})), **kwargs)


def _lazy(module: str, name: str) -> Callable:
    def convert(src, out_dir, **kwargs):
        import importlib
        return getattr(importlib.import_module(f'mmwsss.datasets.{module}'), name)(src, out_dir, **kwargs)
    convert.__name__ = name
    return convert


CONVERTERS: Dict[str, Callable] = dict(
    synthetic=_synthetic,
    mtd=_lazy('mtd_converter', 'convert_mtd'),
    neu_seg=_lazy('neu_seg_converter', 'convert_neu_seg'),
    ksdd2=_lazy('ksdd2_converter', 'convert_ksdd2'),
    dagm=_lazy('dagm_converter', 'convert_dagm'),
    folders=_lazy('folder_converter', 'convert_folders'),
)


def convert_dataset(kind: str, src, out_dir: str, **options):
    """Run the converter registered as ``kind``."""
    if kind not in CONVERTERS:
        raise ValueError(f'data_preparation.type must be one of {sorted(CONVERTERS)}, got {kind!r}')
    return CONVERTERS[kind](src, out_dir, **options)
