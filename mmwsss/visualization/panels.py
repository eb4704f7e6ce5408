"""Drawing helpers of every picture mmwsss writes: class colours, CAM heat maps, titled panels with a legend."""
from typing import List, Optional, Sequence

import cv2
import numpy as np

TITLE_HEIGHT = 18
LEGEND_ROW = 16


def colorize(label: np.ndarray, palette: List[List[int]]) -> np.ndarray:
    """(H, W) labels -> (H, W, 3) BGR; 255 (ignore) drawn white."""
    lut = np.full((256, 3), 255, np.uint8)
    lut[:len(palette)] = np.array(palette, np.uint8)[:, ::-1]
    return lut[label]


def default_palette(num: int) -> List[List[int]]:
    """Black background plus ``num - 1`` distinct RGB colours."""
    base = [[230, 25, 75], [60, 180, 75], [255, 225, 25], [0, 130, 200], [245, 130, 48], [145, 30, 180],
            [70, 240, 240], [240, 50, 230]]
    return [[0, 0, 0]] + [base[i % len(base)] for i in range(num - 1)]


def dataset_palette(dataset_cfg: dict, num_classes: int) -> List[List[int]]:
    """Palette of an mmseg dataset config: its ``metainfo``, else its registered type's ``METAINFO``, else
    :func:`default_palette`."""
    from mmseg.registry import DATASETS
    palette = (dataset_cfg.get('metainfo') or {}).get('palette')
    if palette is None:
        dataset_cls = DATASETS.get(dataset_cfg['type'])
        palette = getattr(dataset_cls, 'METAINFO', {}).get('palette') if dataset_cls is not None else None
    return [list(c) for c in palette] if palette else default_palette(num_classes)


def heatmap(cam: np.ndarray, image: np.ndarray) -> np.ndarray:
    """(H, W) map in [0, 1] over a BGR image -> JET overlay."""
    jet = cv2.applyColorMap((np.clip(cam, 0, 1) * 255).astype(np.uint8), cv2.COLORMAP_JET)
    return cv2.addWeighted(image, 0.5, jet, 0.5, 0)


def _text(canvas: np.ndarray, text: str, org, scale: float = 0.4, colour=(0, 0, 0)) -> None:
    cv2.putText(canvas, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, colour, 1, cv2.LINE_AA)


def legend_band(width: int, classes: Sequence[str], palette: List[List[int]]) -> np.ndarray:
    """(h, width, 3) white band: a colour swatch and the name of every defect class (background is black,
    ignored pixels white), wrapped over as many lines as the width needs."""
    items = [(name, palette[i]) for i, name in enumerate(classes) if i > 0] + [('ignore', [255, 255, 255])]
    lines, line, x = [], [], 4
    for name, colour in items:
        w = 18 + 7 * len(name) + 10
        if line and x + w > width:
            lines.append(line)
            line, x = [], 4
        line.append((x, name, colour))
        x += w
    lines.append(line)
    band = np.full((LEGEND_ROW * len(lines) + 4, width, 3), 255, np.uint8)
    for row, entries in enumerate(lines):
        y = LEGEND_ROW * row + 4
        for x, name, colour in entries:
            cv2.rectangle(band, (x, y), (x + 10, y + 10), tuple(int(c) for c in colour[::-1]), -1)
            cv2.rectangle(band, (x, y), (x + 10, y + 10), (0, 0, 0), 1)
            _text(band, name, (x + 14, y + 10))
    return band


def titled_row(panels: Sequence[np.ndarray], titles: Sequence[str], classes: Optional[Sequence[str]] = None,
               palette: Optional[List[List[int]]] = None) -> np.ndarray:
    """BGR panels of one height side by side, each under its title, with a class legend below when
    ``classes`` and ``palette`` are given: (TITLE_HEIGHT + H + legend, sum W, 3)."""
    if len(panels) != len(titles):
        raise ValueError(f'{len(panels)} panels but {len(titles)} titles')
    heads = []
    for panel, title in zip(panels, titles):
        head = np.full((TITLE_HEIGHT, panel.shape[1], 3), 255, np.uint8)
        width = cv2.getTextSize(title, cv2.FONT_HERSHEY_SIMPLEX, 0.4, 1)[0][0]
        _text(head, title, (3, TITLE_HEIGHT - 5), scale=min(0.4, 0.4 * (panel.shape[1] - 6) / max(width, 1)))
        heads.append(np.concatenate([head, panel], axis=0))
    row = np.concatenate(heads, axis=1)
    if classes is not None and palette is not None:
        row = np.concatenate([row, legend_band(row.shape[1], classes, palette)], axis=0)
    return row
