"""Contact sheet of suggested spans: a few thumbnails per span, to label from.

The thumbnails are the very frames that were embedded, decoded from each video's source
(`featurestore.video.sources.find_source`) at the samples' stored presentation times by the one frame reader
(`featurestore.video.pyav.AvVideoReader.frames_at`). Drawn with matplotlib's Agg canvas (no display needed).
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from featurestore.files import atomic_output

THUMBS_PER_SPAN = 4
THUMB_HEIGHT_IN = 1.35
TEXT_WIDTH_IN = 3.3
HEADER_IN = 0.6
DPI = 100


def thumbnail_times(sample_s: np.ndarray, n: int = THUMBS_PER_SPAN) -> np.ndarray:
    """Indices of up to `n` samples spread evenly over a span's samples (first and last included)."""
    k = len(sample_s)
    if k <= n:
        return np.arange(k)
    return np.unique(np.round(np.linspace(0, k - 1, n)).astype(int))


def draw_sheet(path: str | os.PathLike, rows: list[dict], *, title: str) -> Path:
    """Write the contact sheet PNG: a header line, then one row per span.

    Parameters
    ----------
    rows : list of dict
        Per span, in the order shown: ``"heading"`` (str: rank, video), ``"lines"`` (list of str: time range,
        guess, why), ``"thumbs"`` (list of BGR uint8 images), ``"captions"`` (list of str, one per thumb), and
        optionally ``"aspect"`` (width / height as the video is shown, `featurestore.video.aspect.display_aspect`;
        default: the thumbnails' stored size, wrong for anamorphic video).
    title : str
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    n_thumbs = max([len(r["thumbs"]) for r in rows] + [1])
    aspect = _aspect(rows)
    thumb_w_in = THUMB_HEIGHT_IN * aspect
    row_h_in = THUMB_HEIGHT_IN + 0.45
    width_in = TEXT_WIDTH_IN + n_thumbs * (thumb_w_in + 0.1) + 0.2
    height_in = HEADER_IN + row_h_in * max(len(rows), 1)
    fig = Figure(figsize=(width_in, height_in), dpi=DPI)
    FigureCanvasAgg(fig)
    fig.text(0.1 / width_in, 1 - 0.35 / height_in, title, fontsize=11, weight="bold", va="center")
    for i, row in enumerate(rows):
        top_in = height_in - HEADER_IN - i * row_h_in
        fig.text(0.1 / width_in, (top_in - 0.2) / height_in, row["heading"], fontsize=10, weight="bold", va="top")
        for j, line in enumerate(row["lines"]):
            fig.text(0.1 / width_in, (top_in - 0.5 - 0.25 * j) / height_in, line, fontsize=9, va="top")
        for j, (thumb, caption) in enumerate(zip(row["thumbs"], row["captions"])):
            left_in = TEXT_WIDTH_IN + j * (thumb_w_in + 0.1)
            ax = fig.add_axes([left_in / width_in, (top_in - 0.1 - THUMB_HEIGHT_IN) / height_in,
                               thumb_w_in / width_in, THUMB_HEIGHT_IN / height_in])
            ax.imshow(cv2.cvtColor(thumb, cv2.COLOR_BGR2RGB), aspect="auto", interpolation="antialiased")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_xlabel(caption, fontsize=8, labelpad=2)
    if not rows:
        fig.text(0.1 / width_in, 0.5, "no span to suggest", fontsize=10)
    path = Path(path)
    with atomic_output(path) as tmp:
        fig.savefig(tmp, dpi=DPI, format="png")
    return path


def _aspect(rows: list[dict]) -> float:
    for r in rows:
        if r.get("aspect"):
            return min(max(float(r["aspect"]), 0.5), 2.5)
        for thumb in r["thumbs"]:
            h, w = thumb.shape[:2]
            return min(max(w / h, 0.5), 2.5) if h else 4 / 3
    return 4 / 3
