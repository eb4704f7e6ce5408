"""``results.html``: the pipeline's report for people, one self-contained file (images inline, no network).

Sections: the results table (the rows of ``results.md``), per-class IoU bars, image-level ROC and PR curves
of the trained segmenters on the test split (from ``report/test_scores.json``), galleries of the worst and
best test images per defect class, the pseudo-label review queue (least confident first) and the training
overlays. Plots are drawn with matplotlib (Agg) and embedded as PNG. An inline script marks
``<body data-images-ok="N/M">`` once the page has loaded (decoded images / all images), which a headless
browser can read back (``tests/test_html_report.py``).
"""
import base64
import html
import io
import json
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

from mmwsss.evaluation.image_level_scores import roc_pr_points
from mmwsss.utils import atomic_write_text

STYLE = """
body { font-family: -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; margin: 24px; color: #222; }
h1 { font-size: 22px; } h2 { font-size: 18px; margin-top: 28px; border-bottom: 1px solid #ddd; }
h3 { font-size: 15px; margin-bottom: 4px; }
table { border-collapse: collapse; font-size: 13px; } td, th { border: 1px solid #ccc; padding: 3px 8px; }
th { background: #f3f3f3; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { display: inline-block; margin: 4px 10px 10px 0; vertical-align: top; }
figcaption { font-size: 12px; color: #555; } img { max-width: 100%; }
.note { color: #666; font-size: 13px; }
"""
SCRIPT = """
window.addEventListener('load', function () {
  var imgs = document.images, ok = 0;
  for (var i = 0; i < imgs.length; i++) { if (imgs[i].complete && imgs[i].naturalWidth > 0) { ok++; } }
  document.body.setAttribute('data-images-ok', ok + '/' + imgs.length);
});
"""
MODEL_NAMES = dict(segmenter='weakly supervised segmenter', fully_supervised='fully supervised (GT masks)')


def png_data_uri(data: bytes) -> str:
    return 'data:image/png;base64,' + base64.b64encode(data).decode('ascii')


def file_data_uri(path: str) -> Optional[str]:
    if not osp.isfile(path):
        return None
    with open(path, 'rb') as f:
        return png_data_uri(f.read())


def figure_data_uri(fig) -> str:
    """A matplotlib figure as an inline PNG (the figure is closed)."""
    import matplotlib.pyplot as plt
    buf = io.BytesIO()
    fig.savefig(buf, format='png', dpi=110, bbox_inches='tight')
    plt.close(fig)
    return png_data_uri(buf.getvalue())


def curves_figure(test_scores: Dict[str, List[Dict]], results: Dict):
    """ROC and PR curves of each trained segmenter (image level: score = highest defect probability)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, (roc, pr) = plt.subplots(1, 2, figsize=(9, 3.8))
    for key, rows in test_scores.items():
        if not rows:
            continue
        score = torch.tensor([r['score'] for r in rows], dtype=torch.double)
        defective = torch.tensor([bool(r['labels']) for r in rows])
        if defective.all() or not defective.any():
            continue
        pts = {k: v.numpy() for k, v in roc_pr_points(score, defective).items()}
        # the plotted model: the final refinement round's segmenter (round 0 without refinement)
        part = results['rounds'][-1]['segmenter'] if key == 'segmenter' else results.get(key)
        img = (part or {}).get('image_level', {})
        roc.plot(pts['fpr'], pts['tpr'], label=f"{MODEL_NAMES.get(key, key)} (AUROC {img.get('auroc', 0):.3f})")
        pr.plot(pts['recall'], pts['precision'], label=f"{MODEL_NAMES.get(key, key)} (AP {img.get('ap', 0):.3f})")
    roc.plot([0, 1], [0, 1], color='#bbb', linestyle='--', linewidth=1)
    roc.set(xlabel='OK images flagged (false-positive rate)', ylabel='NG images found (recall)', title='ROC, test',
            xlim=(0, 1), ylim=(0, 1.02))
    pr.set(xlabel='recall (NG found)', ylabel='precision', title='precision-recall, test', xlim=(0, 1),
           ylim=(0, 1.02))
    for ax in (roc, pr):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc='lower right')
    return fig


def class_bars_figure(results: Dict, classes: Sequence[str], palette: List[List[int]]):
    """Grouped bars: IoU per defect class of the pseudo-labels (train), the segmenter and the fully supervised
    bound (test); parts without masks are left out."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    parts = [(f"pseudo-labels ({results['cam_method']}), train", results['pseudo_labels']),
             ('weakly supervised segmenter, test', results['rounds'][-1]['segmenter'])]
    if results.get('fully_supervised'):
        parts.append(('fully supervised, test', results['fully_supervised']))
    parts = [(name, p) for name, p in parts if p.get('defect_miou') is not None]
    defects = list(classes[1:])
    fig, ax = plt.subplots(figsize=(max(5, 1.3 * len(defects) + 2), 3.4))
    width = 0.8 / max(len(parts), 1)
    x = np.arange(len(defects))
    for i, (name, part) in enumerate(parts):
        values = [part['defect_iou'].get(c) or 0.0 for c in defects]
        bars = ax.bar(x + (i - (len(parts) - 1) / 2) * width, values, width, label=name)
        ax.bar_label(bars, fmt='%.2f', fontsize=7)
    ax.set_xticks(x, defects)
    for tick, c in zip(ax.get_xticklabels(), defects):
        tick.set_color(np.array(palette[classes.index(c)]) / 255 * 0.8)
    ax.set(ylabel='IoU', ylim=(0, 1), title='IoU per defect class')
    ax.legend(fontsize=8)
    ax.grid(axis='y', alpha=0.3)
    return fig


def _table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    def cell(v):
        cls = ' class="num"' if v.replace('.', '', 1).isdigit() else ''
        return f'<td{cls}>{html.escape(v)}</td>'
    out = ['<table id="results">', '<tr>' + ''.join(f'<th>{html.escape(h)}</th>' for h in head) + '</tr>']
    out += ['<tr>' + ''.join(cell(v) for v in r) + '</tr>' for r in rows]
    return '\n'.join(out + ['</table>'])


def _figure(uri: Optional[str], caption: str, alt: str) -> str:
    if uri is None:
        return ''
    return (f'<figure><img src="{uri}" alt="{html.escape(alt)}"><figcaption>{html.escape(caption)}'
            '</figcaption></figure>')


def _gallery(galleries: Dict[str, Dict]) -> str:
    parts = []
    for key, per_class in galleries.items():
        parts.append(f'<h3>{html.escape(MODEL_NAMES.get(key, key))}</h3>')
        for c, kinds in per_class.items():
            for kind in ('worst', 'best'):
                shots = kinds.get(kind) or []
                if not shots:
                    continue
                parts.append(f'<p><b>{html.escape(c)}</b>, {kind} {len(shots)}:</p>')
                for shot in shots:
                    iou = '' if shot.get('iou') is None else f", IoU {shot['iou']:.3f}"
                    caption = f"{shot['image']}: score {shot['score']:.3f}{iou}"
                    parts.append(_figure(file_data_uri(shot['png']), caption, f'{key} {c} {kind}'))
    return '\n'.join(parts) or '<p class="note">no trained segmenter</p>'


def write_html_report(path: str, results: Dict, table: Tuple[List[str], List[List[str]]], notes: List[str],
                      report: Dict, classes: Sequence[str], palette: List[List[int]]) -> str:
    """Write ``results.html`` (see the module docstring) and return its path.

    Args:
        table: (header, rows) of :func:`mmwsss.apis.report.results_table`.
        notes: lines on what was not measured.
        report: the report stage's result (``overlays``, ``test_scores`` file, ``galleries``, ``review``).
    """
    test_scores = {}
    if report.get('test_scores') and osp.isfile(report['test_scores']):
        with open(report['test_scores'], encoding='utf-8') as f:
            test_scores = json.load(f)
    title = f"{results['dataset']}: weakly supervised defect segmentation ({results['cam_method']})"
    body = [f'<h1>{html.escape(title)}</h1>',
            f"<p class=\"note\">data: {html.escape(str(results.get('data_root', '')))}; time per stage: "
            + html.escape(', '.join(f'{k} {v:.0f} s' for k, v in results['seconds'].items())) + '</p>',
            '<h2>Results</h2>', _table(*table)]
    body += [f'<p class="note">{html.escape(n)}</p>' for n in notes]
    if results['pseudo_labels'].get('defect_miou') is not None or results['segmenter'].get('defect_miou') is not None:
        body += ['<h2>IoU per defect class</h2>',
                 _figure(figure_data_uri(class_bars_figure(results, classes, palette)), 'IoU per defect class',
                         'IoU bars')]
    if test_scores:
        body += ['<h2>OK / NG on the test images</h2>',
                 _figure(figure_data_uri(curves_figure(test_scores, results)),
                         'image score = highest defect probability of any pixel', 'ROC and PR curves')]
    body += ['<h2>Test images per defect class: worst and best</h2>', _gallery(report.get('galleries') or {})]
    review = report.get('review') or []
    body.append('<h2>Pseudo-label review queue (least confident first)</h2>')
    body += [_figure(file_data_uri(r['png']), f"{r['image']} ({'+'.join(r['classes'])}): confidence "
                     f"{r['confidence']:.3f}", 'review') for r in review] or ['<p class="note">nothing to review</p>']
    overlays = report.get('overlays') or []
    if overlays:
        body.append('<h2>Training images: image, GT, CAM, pseudo-label, prediction</h2>')
        body += [_figure(file_data_uri(p), osp.basename(p), 'overlay') for p in overlays]
    page = ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<title>{html.escape(title)}</title><style>{STYLE}</style><script>{SCRIPT}</script></head>\n'
            '<body>\n' + '\n'.join(body) + '\n</body></html>\n')
    atomic_write_text(path, page)
    return path
