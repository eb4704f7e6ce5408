"""Run the whole weakly supervised pipeline: classifier -> CAM pseudo-labels -> segmenter -> report.

    python tools/run_pipeline.py configs/wsss/gradcam_r18_deeplabv3plus_synthetic.py --work-dir work_dirs/demo

Re-running with the same --work-dir resumes: finished stages are skipped, an interrupted training stage
resumes from its last checkpoint and pseudo-label generation skips finished files. Settings of stages
that have not run yet may change between runs (e.g. `--cfg-options refinement.rounds=2` after the
segmenter); changing what a finished stage was run with is refused. `--restart` removes only what an
earlier pipeline run wrote into --work-dir (its state.json proves it is one) and lists it.
"""
import argparse
import json
import os
import os.path as osp
import shutil

from mmengine.config import Config

import mmwsss  # noqa: F401  (shims + registration)
from mmwsss.apis.report import format_markdown, write_results
from mmwsss.apis.wsss_pipeline import STAGES, PipelineStateError, WSSSPipeline, check_pipeline_options
from mmwsss.utils import add_debug_flag, cfg_options_action, cli_main

# what a pipeline run writes into its work dir (--restart removes these and nothing else)
PIPELINE_OUTPUTS = ('state.json', 'results.json', 'results.md', 'classifier', 'pseudo_labels', 'segmenter',
                    'refinement', 'refined_labels', 'fully_supervised', 'overlays')


def parse_args():
    parser = argparse.ArgumentParser(description='mmwsss weakly supervised pipeline')
    parser.add_argument('config', help='pipeline config (configs/wsss/*.py)')
    parser.add_argument('--work-dir', help='output folder (default work_dirs/<config name>)')
    parser.add_argument('--cam-method', help='override cam.method (e.g. gradcam)')
    parser.add_argument('--data-root', help='override data_root')
    parser.add_argument('--stages', nargs='+', choices=STAGES, help='run only these stages')
    parser.add_argument('--restart', action='store_true',
                        help="discard an earlier pipeline run in --work-dir (only the pipeline's own outputs)")
    parser.add_argument('--device', default='cpu', help='device for CAMs and overlays (training: runner)')
    parser.add_argument('--verbose', action='store_true',
                        help="show the runners' logs on the console (default: progress bars; logs in the work dir)")
    parser.add_argument('--cfg-options', nargs='+', action=cfg_options_action(),
                        help='override pipeline config keys, key=value')
    add_debug_flag(parser)
    return parser.parse_args()


def restart(work_dir: str) -> None:
    """Remove the outputs of the pipeline run in ``work_dir``; refuse a folder that holds no pipeline run."""
    if not osp.isdir(work_dir):
        return
    if not osp.isfile(osp.join(work_dir, 'state.json')):
        if os.listdir(work_dir):
            raise PipelineStateError(
                f'--restart: {work_dir} holds no pipeline run (no state.json), nothing of it is removed; check '
                '--work-dir (is it a data set or another tool\'s folder?)')
        return
    removed = [name for name in PIPELINE_OUTPUTS if osp.lexists(osp.join(work_dir, name))]
    for name in removed:
        path = osp.join(work_dir, name)
        if osp.isdir(path) and not osp.islink(path):
            shutil.rmtree(path)
        else:
            os.remove(path)
    print(f"[mmwsss] --restart: removed {', '.join(removed)} from {work_dir}")


def main():
    args = parse_args()
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'pipeline config not found: {args.config} (configs/wsss/*.py, or the wsss_<name>.py '
                                'that tools/dataset_converters/folders.py wrote)')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        check_pipeline_options(cfg, args.cfg_options)
        cfg.merge_from_dict(args.cfg_options)
    if args.cam_method:
        cfg.cam.method = args.cam_method
    if args.data_root:
        cfg.data_root = args.data_root
    work_dir = args.work_dir or osp.join('work_dirs', osp.splitext(osp.basename(args.config))[0])
    if args.restart:
        restart(work_dir)
    pipeline = WSSSPipeline(cfg, work_dir, device=args.device, quiet=not args.verbose)
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
    cli_main(main)
