"""Run the whole weakly supervised pipeline: classifier -> CAM pseudo-labels -> segmenter -> report.

    python tools/run_pipeline.py configs/wsss/gradcam_r18_deeplabv3plus_synthetic.py --work-dir work_dirs/demo

Re-running with the same --work-dir resumes: finished stages are skipped, an interrupted training stage
resumes from its last checkpoint and pseudo-label generation skips finished files. Settings of stages
that have not run yet may change between runs (e.g. `--cfg-options refinement.rounds=2` after the
segmenter); changing what a finished stage was run with is refused.
"""
import argparse
import json
import os.path as osp
import shutil

from mmengine.config import Config, DictAction

import mmwsss  # noqa: F401  (shims + registration)
from mmwsss.apis.report import format_markdown, write_results
from mmwsss.apis.wsss_pipeline import STAGES, WSSSPipeline


def parse_args():
    parser = argparse.ArgumentParser(description='mmwsss weakly supervised pipeline')
    parser.add_argument('config', help='pipeline config (configs/wsss/*.py)')
    parser.add_argument('--work-dir', help='output folder (default work_dirs/<config name>)')
    parser.add_argument('--cam-method', help='override cam.method (e.g. gradcam)')
    parser.add_argument('--data-root', help='override data_root')
    parser.add_argument('--stages', nargs='+', choices=STAGES, help='run only these stages')
    parser.add_argument('--restart', action='store_true', help='discard an earlier run in --work-dir')
    parser.add_argument('--device', default='cpu', help='device for CAMs and overlays (training: runner)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='override pipeline config keys')
    return parser.parse_args()


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if args.cam_method:
        cfg.cam.method = args.cam_method
    if args.data_root:
        cfg.data_root = args.data_root
    work_dir = args.work_dir or osp.join('work_dirs', osp.splitext(osp.basename(args.config))[0])
    if args.restart and osp.isdir(work_dir):
        shutil.rmtree(work_dir)
    pipeline = WSSSPipeline(cfg, work_dir, device=args.device)
    pipeline.run(args.stages)
    done = {s for s, v in pipeline.state['stages'].items() if v.get('done')}
    # results need the core stages; refinement / fully_supervised are reported when they have run
    if {'classifier', 'pseudo_labels', 'segmenter', 'report'} <= done:
        results = write_results(pipeline)
        print(format_markdown(results))
        print(f'results: {osp.join(work_dir, "results.json")}')
    else:
        print(json.dumps({s: s in done for s in STAGES}))


if __name__ == '__main__':
    main()
