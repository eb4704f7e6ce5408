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


# converters that render their data and take no ``src``
SOURCELESS = ('synthetic', )


def convert_dataset(kind: str, src, out_dir: str, **options):
    """Run the converter registered as ``kind``."""
    if kind not in CONVERTERS:
        raise ValueError(f'data_preparation.type must be one of {sorted(CONVERTERS)}, got {kind!r}')
    return CONVERTERS[kind](src, out_dir, **options)


def public_set_main(kind: str, title: str, argv=None) -> None:
    """Command line of ``tools/dataset_converters/{neu_seg,ksdd2,dagm}.py``: ``SRC OUT_DIR [--val-fraction F]
    [--seed S]``; prints the split counts, exits with the message on bad input."""
    import argparse

    from .layout import DatasetLayoutError
    parser = argparse.ArgumentParser(description=f'Convert {title} to the mmwsss layout')
    parser.add_argument('src', help=f'{title} root')
    parser.add_argument('out_dir', help='output data root')
    parser.add_argument('--val-fraction', type=float, default=0.1, help='share of the training part used for val')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    try:
        report = convert_dataset(kind, args.src, args.out_dir, val_fraction=args.val_fraction, seed=args.seed,
                                 progress=True)
    except DatasetLayoutError as err:
        raise SystemExit(f'error: {err}')
    for split, c in report['counts'].items():
        print(f"{split:5s} {c['defect_free']:6d} defect-free {c['defective']:6d} defective")
    print(f"written {report['written']}, reused {report['reused']}, normalized {len(report['normalized'])}")
