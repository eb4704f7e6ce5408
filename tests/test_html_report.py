"""results.html: one self-contained page, rendered by a real browser (headless Chromium) with every image decoded."""
import json
import os.path as osp
import re
import shutil
import subprocess

import cv2
import numpy as np
import pytest

CLASSES = ['background', 'scratch', 'pit']
PALETTE = [[0, 0, 0], [230, 25, 75], [60, 180, 75]]


def find_browser():
    for name in ('chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'):
        path = shutil.which(name)
        if path:
            return path
    return None


def toy_report(tmp_path):
    """results + report stage output of a two-class toy run: 2 galleries x 2 shots, 1 review row, 1 overlay."""
    from mmwsss.apis.report import results_notes, results_table
    from mmwsss.visualization.panels import titled_row
    part = dict(miou=0.5, defect_miou=0.4, defect_iou=dict(scratch=0.3, pit=0.5), iou={})
    seg = dict(part, image_level=dict(auroc=0.75, ap=0.8, accuracy=0.7, ng_recall=0.9, ok_false_alarm_rate=0.2),
               pixel_level=dict(auroc=0.9, aupro=0.6, f1_max=0.5, defect_pixels=10, regions=2))
    results = dict(dataset='toy', data_root='data/toy', cam_method='racam', seconds=dict(classifier=3.0),
                   classifier=dict(accuracy=0.9, ok_ng_accuracy=0.95, f1=0.9), pseudo_labels=dict(part, compared={}),
                   segmenter=seg, rounds=[dict(round=0, segmenter=seg)])
    pngs = []
    for i in range(6):
        img = np.full((20, 30, 3), 40 * i, np.uint8)
        path = str(tmp_path / f'panel_{i}.png')
        cv2.imwrite(path, titled_row([img, img], ['image', 'prediction'], CLASSES, PALETTE))
        pngs.append(path)
    rows = [dict(image=f'{k}.png', labels=lab, score=s, decision='NG' if s > 0.5 else 'OK')
            for k, (lab, s) in enumerate([([], 0.1), ([], 0.6), (['pit'], 0.7), (['scratch'], 0.4)])]
    scores = str(tmp_path / 'test_scores.json')
    json.dump(dict(segmenter=rows), open(scores, 'w'))
    shot = [dict(png=p, image='a.png', score=0.7, iou=0.5) for p in pngs[:2]]
    report = dict(test_scores=scores, galleries=dict(segmenter=dict(scratch=dict(worst=shot, best=shot))),
                  review=[dict(png=pngs[2], image='r.png', classes=['pit'], confidence=0.12)], overlays=[pngs[3]])
    return results, results_table(results), results_notes(results), report


def test_notes_name_the_classes_the_contrast_prior_narrowed(tmp_path):
    from mmwsss.apis.report import format_markdown, results_notes
    results = toy_report(tmp_path)[0]
    assert results_notes(results) == []
    results['pseudo_labels']['contrast_prior_classes'] = dict(
        scratch=dict(regions=5, median_peak=2.7211, narrowed=True),
        pit=dict(regions=3, median_peak=1.3, narrowed=False))
    note = 'contrast prior: narrowed scratch; CAM regions kept for pit (median peak 1.30)'
    assert results_notes(results) == [note]
    assert f'\n\n{note}.\n\nTime:' in format_markdown(results)


def test_page_is_self_contained(tmp_path):
    from mmwsss.visualization.html_report import write_html_report
    results, table, notes, report = toy_report(tmp_path)
    page = open(write_html_report(str(tmp_path / 'results.html'), results, table, notes, report, CLASSES,
                                  PALETTE)).read()
    images = re.findall(r'<img src="([^"]+)"', page)
    # bars + curves + 2 x 2 gallery shots + 1 review + 1 overlay, all inline PNGs, nothing fetched
    assert len(images) == 8 and all(src.startswith('data:image/png;base64,') for src in images)
    assert 'http://' not in page and 'https://' not in page
    assert page.count('<tr>') == 1 + len(table[1])
    assert 'AUPRO (FPR &lt;= 0.3) 0.600' in page and '<b>scratch</b>, worst 2' in page


def test_browser_renders_tables_and_images(tmp_path):
    browser = find_browser()
    if browser is None:
        pytest.skip('no Chromium found (Debian: apt-get install chromium; .ci/run installs it)')
    from mmwsss.visualization.html_report import write_html_report
    results, table, notes, report = toy_report(tmp_path)
    path = write_html_report(str(tmp_path / 'results.html'), results, table, notes, report, CLASSES, PALETTE)
    cmd = [browser, '--headless', '--no-sandbox', '--disable-gpu', '--virtual-time-budget=5000', '--dump-dom',
           'file://' + osp.abspath(path)]
    dom = subprocess.run(cmd, capture_output=True, text=True, timeout=120).stdout
    assert '<table id="results">' in dom and dom.count('<tr>') == 1 + len(table[1])
    assert 'data-images-ok="8/8"' in dom  # the page's load handler: every <img> decoded by the browser
    shot = str(tmp_path / 'shot.png')
    subprocess.run([browser, '--headless', '--no-sandbox', '--disable-gpu', '--window-size=1000,1400',
                    f'--screenshot={shot}', 'file://' + osp.abspath(path)], capture_output=True, timeout=120)
    rendered = cv2.imread(shot)
    assert rendered is not None and rendered.shape[:2] == (1400, 1000) and rendered.std() > 10  # not blank
