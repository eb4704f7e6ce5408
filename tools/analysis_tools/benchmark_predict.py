"""Predict throughput (PyTorch vs ONNX Runtime, side by side) and a load test of tools/predict.py.

    # images/s of one segmenter on a folder, PyTorch and ONNX Runtime in this one run (ratios are the result)
    python tools/analysis_tools/benchmark_predict.py speed CONFIG CHECKPOINT MODEL.onnx IMAGES [--limit 200]
    # N generated images through tools/predict.py: memory sampled every second, interrupted at half, resumed
    python tools/analysis_tools/benchmark_predict.py load CONFIG CHECKPOINT --num 10000 --work-dir DIR

``speed`` times :class:`mmwsss.apis.DefectInferencer` (decode, test pipeline, forward, OK / NG description; no
file writing) over the same images with each backend, after one warm-up batch. ``load`` writes ``--num``
random images of ``--size`` px into ``DIR/images``, runs ``tools/predict.py --no-overlay`` on them in a
subprocess, stops it (SIGINT) once half are done, reruns it, and reports images/s, the resident memory (RSS) at
each tenth of the run and whether the rerun redid any image.
"""
import argparse
import json
import os
import os.path as osp
import signal
import subprocess
import sys
import time

import cv2
import numpy as np

from mmwsss.utils import add_debug_flag, cli_main

REPO_TOOLS = osp.dirname(osp.dirname(osp.abspath(__file__)))


def parse_args():
    parser = argparse.ArgumentParser(description='Predict images/s (PyTorch vs ONNX Runtime) and a load test')
    sub = parser.add_subparsers(dest='mode', required=True)
    speed = sub.add_parser('speed', help='images/s of both backends on the same images')
    speed.add_argument('config')
    speed.add_argument('checkpoint')
    speed.add_argument('onnx', help='the same model exported by tools/deployment/pytorch2onnx.py')
    speed.add_argument('inputs', nargs='+', help='images, folders or .txt lists')
    speed.add_argument('--limit', type=int, default=200, help='images timed per backend')
    speed.add_argument('--batch-size', type=int, default=4)
    load = sub.add_parser('load', help='tools/predict.py over many images: memory, speed, resume')
    load.add_argument('config')
    load.add_argument('checkpoint')
    load.add_argument('--num', type=int, default=10000)
    load.add_argument('--size', type=int, default=128)
    load.add_argument('--work-dir', required=True)
    load.add_argument('--batch-size', type=int, default=8)
    add_debug_flag(parser)
    return parser.parse_args()


def speed(args) -> None:
    from mmwsss.apis.defect_inferencer import DefectInferencer, list_inputs
    paths = list_inputs(args.inputs)[:args.limit]
    rows = []
    for name, model_file in (('PyTorch', args.checkpoint), ('ONNX Runtime', args.onnx)):
        inferencer = DefectInferencer(args.config, model_file, batch_size=args.batch_size)
        list(inferencer(paths[:args.batch_size]))  # warm-up
        start = time.perf_counter()
        decisions = [r.get('decision') for r in inferencer(paths)]
        seconds = time.perf_counter() - start
        rows.append((name, len(paths) / seconds, decisions))
    same = np.mean([a == b for a, b in zip(rows[0][2], rows[1][2])])
    print(f'| backend | images/s | ratio to PyTorch |  ({len(paths)} images, batch {args.batch_size}, '
          f'torch threads {__import__("torch").get_num_threads()})')
    print('|---|---|---|')
    for name, ips, _ in rows:
        print(f'| {name} | {ips:.2f} | {ips / rows[0][1]:.2f}x |')
    print(f'same OK / NG decision on {100 * same:.1f} % of the images')


def rss_mb(pid: int) -> float:
    with open(f'/proc/{pid}/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) / 1024
    return float('nan')


def count_lines(path: str) -> int:
    if not osp.isfile(path):
        return 0
    with open(path, 'rb') as f:
        return sum(1 for _ in f)


def run_predict(args, images: str, out: str, stop_at: int = 0):
    """tools/predict.py in a subprocess; returns (seconds, [(lines done, RSS MB)], interrupted)."""
    cmd = [sys.executable, osp.join(REPO_TOOLS, 'predict.py'), args.config, args.checkpoint, images, '--out-dir',
           out, '--no-overlay', '--batch-size', str(args.batch_size)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    lines = osp.join(out, 'predictions.jsonl')
    samples, start, interrupted = [], time.perf_counter(), False
    while proc.poll() is None:
        time.sleep(1.0)
        done = count_lines(lines)
        try:
            samples.append((done, rss_mb(proc.pid)))
        except FileNotFoundError:
            break
        if stop_at and done >= stop_at and not interrupted:
            proc.send_signal(signal.SIGINT)
            interrupted = True
    proc.wait()
    return time.perf_counter() - start, samples, interrupted


def load(args) -> None:
    images = osp.join(args.work_dir, 'images')
    os.makedirs(images, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(args.num):
        path = osp.join(images, f'{i:05d}.png')
        if not osp.isfile(path):
            img = rng.normal(128, 20, (args.size, args.size)).clip(0, 255).astype(np.uint8)
            if i % 2:
                cv2.circle(img, tuple(int(v) for v in rng.integers(10, args.size - 10, 2)), 4, 40, -1)
            cv2.imwrite(path, img)
    out = osp.join(args.work_dir, 'predict')
    first, samples, interrupted = run_predict(args, images, out, stop_at=args.num // 2)
    done_first = count_lines(osp.join(out, 'predictions.jsonl'))
    second, more, _ = run_predict(args, images, out)
    with open(osp.join(out, 'predictions.jsonl')) as f:
        names = [json.loads(line)['image'] for line in f if line.strip()]
    redone = len(names) - len(set(names))
    samples += [(done_first + d, m) for d, m in more]
    if not samples:
        raise RuntimeError('tools/predict.py ended before the first memory sample (1 s): use more --num images')
    marks = [next((m for d, m in samples if d >= args.num * k / 10), samples[-1][1]) for k in range(1, 11)]
    print(f'{args.num} images of {args.size} px: first run interrupted={interrupted} after {done_first} images '
          f'({first:.0f} s), resumed run {args.num - done_first} images ({second:.0f} s): '
          f'{(args.num - done_first) / max(second, 1e-9):.1f} images/s; lines {len(names)}, redone {redone}')
    print('RSS (MB) at each tenth of the images: ' + ', '.join(f'{m:.0f}' for m in marks))


def main():
    args = parse_args()
    if args.mode == 'speed':
        speed(args)
    else:
        load(args)


if __name__ == '__main__':
    cli_main(main)
