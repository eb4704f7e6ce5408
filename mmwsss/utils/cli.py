"""Command-line entry points: a user's mistake is one line on stderr, not a traceback.

:func:`cli_main` runs a tool's ``main``; the errors a user can cause (bad paths, bad data, bad config keys or
values, a work dir of another run) end the program with ``error: <what, where, how to fix>`` and exit code 1.
``--debug`` anywhere on the command line shows the full traceback instead. Programming errors
(``TypeError``, ``AttributeError``, ...) are not caught.
"""
import sys
from typing import Callable, Optional, Tuple

# errors a user's input can cause; DatasetLayoutError and the config checks derive from ValueError / KeyError
USER_ERRORS = (ValueError, KeyError, FileNotFoundError, NotADirectoryError, IsADirectoryError, PermissionError,
               RuntimeError)


def add_debug_flag(parser) -> None:
    """``--debug``: show the traceback of an error instead of its one-line message."""
    parser.add_argument('--debug', action='store_true', help='show the full traceback of an error')


def add_tta_flags(parser) -> None:
    """``--tta [--tta-scales S ...]``: segmenter test-time augmentation (:class:`~mmwsss.models.FlipTTAModel`);
    read them back with :func:`tta_scales`."""
    parser.add_argument('--tta', action='store_true',
                        help='segmenter: test-time augmentation, the class probabilities of each image and its '
                        'left-right and top-bottom mirrors averaged (FlipTTAModel; PyTorch checkpoints)')
    parser.add_argument('--tta-scales', type=float, nargs='+', metavar='S',
                        help='with --tta: the image rescaled by each of these factors of the test size, each scale '
                        'with its mirrors (e.g. 1.0 1.25; 1.0 keeps the test size)')


def tta_scales(args, parser) -> Optional[Tuple[float, ...]]:
    """The scales :func:`add_tta_flags` asked for: ``None`` without ``--tta``, ``(1.0, )`` without ``--tta-scales``."""
    if args.tta_scales and not args.tta:
        parser.error('--tta-scales goes with --tta')
    return tuple(args.tta_scales or (1.0, )) if args.tta else None


def add_class_gate_flags(parser) -> None:
    """``--classifier CONFIG CHECKPOINT`` and ``--class-gate``: the segmenter's defect probabilities multiplied by
    the image-level classifier's (:func:`~mmwsss.models.gate_probabilities`)."""
    parser.add_argument('--classifier', nargs=2, metavar=('CONFIG', 'CHECKPOINT'),
                        help='the multi-label classifier of the same pipeline run (its classifier/ folder): '
                        'gates the segmenter with --class-gate (tools/predict.py: also scores each image)')
    parser.add_argument('--class-gate', action='store_true',
                        help='gate the segmenter by the classifier: p(class k at a pixel) = p(k in the image) x '
                        'p_segmenter(k) (ClassifierGate; needs --classifier)')
    parser.add_argument('--gate-recall', type=float, metavar='R',
                        help='recall-calibrated gate: min(1, q_k / tau_k), tau_k the score R of the classifier\'s '
                        'val images of class k reach (image labels, no mask; the pipeline uses 0.95). Default: the '
                        'floors of --decision when it has them, else the plain product')
    parser.add_argument('--gate-mode', choices=('product', 'reweight'),
                        help='product: p\'_k = q_k p_k, the rest background; reweight: p\'_c proportional to w_c p_c '
                        '(w_0 = 1, w_k = q_k). Default: the --decision file\'s, else product')


def class_gate(args, parser) -> Optional[dict]:
    """The gate :func:`add_class_gate_flags` asked for: ``dict(config, checkpoint[, recall])`` or ``None``."""
    if args.class_gate and not args.classifier:
        parser.error('--class-gate needs --classifier CONFIG CHECKPOINT (the pipeline\'s classifier/ folder)')
    if args.gate_recall is not None and (not args.class_gate or not 0 < args.gate_recall <= 1):
        parser.error(f'--gate-recall goes with --class-gate and must be in (0, 1], got {args.gate_recall}')
    if args.gate_mode is not None and not args.class_gate:
        parser.error('--gate-mode goes with --class-gate')
    if not args.class_gate:
        return None
    gate = dict(config=args.classifier[0], checkpoint=args.classifier[1])
    if args.gate_mode is not None:
        gate['mode'] = args.gate_mode
    return gate if args.gate_recall is None else dict(gate, recall=args.gate_recall)


def cli_main(main: Callable[[], object]) -> None:
    debug = '--debug' in sys.argv
    try:
        main()
    except USER_ERRORS as err:
        if debug:
            raise
        msg = err.args[0] if isinstance(err, KeyError) and len(err.args) == 1 else str(err)
        print(f'error: {msg}  (--debug shows the traceback)', file=sys.stderr)
        sys.exit(1)


def cfg_options_action():
    """mmengine's ``DictAction`` with a clear message for an item that is not ``key=value``."""
    import argparse

    from mmengine.config import DictAction

    class CfgOptionsAction(DictAction):

        def __call__(self, parser, namespace, values, option_string=None):
            bad = [v for v in values if '=' not in v or v.startswith('=')]
            if bad:
                raise argparse.ArgumentError(self, f'{bad[0]!r} is not key=value (e.g. train_cfg.max_iters=2000; '
                                             'lists as key=[a,b], quote values with spaces)')
            super().__call__(parser, namespace, values, option_string)

    return CfgOptionsAction
