"""Timeline PNG of score results: per video, who is on screen when, and the class probabilities.

For a multi-label model (issue 11) the band has one row per character, so time shared on screen shows as
overlapping bars, and each character's probability of being on screen is drawn as its own line.

Rendered with matplotlib's Agg canvas directly (no pyplot state, no display needed).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np

from classifiers.chain.timeline import VideoScreenTime
from featurestore.files import atomic_output

FIG_WIDTH_IN = 12.0
PANEL_HEIGHT_IN = 2.5  # per video: label band, probabilities, title and time axis
LEGEND_HEIGHT_IN = 0.5
DPI = 100


def figure_size_px(n_videos: int) -> tuple[int, int]:
    """(width, height) in pixels of the PNG `plot_timelines` writes for `n_videos` videos.

    Width is 12 in, height 0.5 in + 2.5 in per video, both at 100 dpi: (1200, 50 + 250 * n_videos).
    """
    return int(round(FIG_WIDTH_IN * DPI)), int(round((LEGEND_HEIGHT_IN + PANEL_HEIGHT_IN * n_videos) * DPI))


def plot_timelines(path: str | os.PathLike, results: Sequence[VideoScreenTime], classes: Sequence[str] | None = None) -> Path:
    """Write a timeline PNG with one panel per video; returns the path.

    Each panel has a coloured band showing the chosen class over time, and under it the class
    probabilities stacked to 1, in the same colours; the title gives the video and its screen times.
    Multi-label results get one band row per character (overlaps show) and one probability line each.
    The size is fixed by `figure_size_px`.

    Parameters
    ----------
    path : path-like
        Where to write the PNG.
    results : sequence of VideoScreenTime
        At least one video.
    classes : sequence of str, optional
        Classes in legend and colour order (default: those of the first result). Keep it the same
        across plots so a class keeps its colour.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    results = list(results)
    if not results:
        raise ValueError("plot_timelines needs at least one video result")
    classes = [str(c) for c in (classes if classes is not None else results[0].classes)]
    for r in results:
        classes += [c for c in r.classes if c not in classes]
    colours = _class_colours(classes)

    width_px, height_px = figure_size_px(len(results))
    fig = Figure(figsize=(width_px / DPI, height_px / DPI), dpi=DPI)
    FigureCanvasAgg(fig)
    for i, result in enumerate(results):
        band_rect, proba_rect = _panel_rects(i, height_px / DPI)
        band_ax = fig.add_axes(band_rect)
        proba_ax = fig.add_axes(proba_rect, sharex=band_ax)
        _draw_video(band_ax, proba_ax, result, colours)

    handles = [Patch(facecolor=colours[c], label=c) for c in classes]
    fig.legend(handles=handles, loc="upper center", ncol=min(len(classes), 8), frameon=False,
               bbox_to_anchor=(0.5, 1.0), fontsize=10)
    path = Path(path)
    with atomic_output(path) as tmp:
        fig.savefig(tmp, dpi=DPI, format="png")
    return path


def _draw_characters(band_ax, proba_ax, result: VideoScreenTime, colours: dict[str, tuple]) -> None:
    """Multi-label: one band row per character (top to bottom in class order), one probability line each."""
    n = len(result.classes)
    for j, c in enumerate(result.classes):
        spans = [(seg.start_s, seg.duration_s) for seg in result.segments if seg.label == c]
        if spans:
            band_ax.broken_barh(spans, (n - 1 - j + 0.1, 0.8), facecolors=colours[c], edgecolor="none")
    band_ax.set_ylim(0, n)
    band_ax.set_yticks([n - 1 - j + 0.5 for j in range(n)], result.classes, fontsize=7)
    if len(result.sample_s):
        x = np.r_[result.sample_s, result.sample_s[-1] + result.sample_duration_s[-1]]
        for j, c in enumerate(result.classes):
            proba_ax.step(x, np.r_[result.proba[:, j], result.proba[-1, j]], where="post", color=colours[c], linewidth=1.2)


def _draw_video(band_ax, proba_ax, result: VideoScreenTime, colours: dict[str, tuple]) -> None:
    end_s = max(result.duration_s, float(result.sample_s[-1]) if len(result.sample_s) else 0.0) or 1.0
    if result.multi_label:
        _draw_characters(band_ax, proba_ax, result, colours)
    else:
        by_label: dict[str, list[tuple[float, float]]] = {}
        for seg in result.segments:
            by_label.setdefault(seg.label, []).append((seg.start_s, seg.duration_s))
        for label, spans in by_label.items():
            band_ax.broken_barh(spans, (0, 1), facecolors=colours[label], edgecolor="none")
        band_ax.set_ylim(0, 1)
        band_ax.set_yticks([0.5], ["on screen"])
    band_ax.tick_params(axis="x", labelbottom=False, bottom=False)
    band_ax.set_xlim(0, end_s)

    if len(result.sample_s) and not result.multi_label:
        # Each sample's probabilities hold over its interval, hence the steps to the interval end.
        x = np.r_[result.sample_s, result.sample_s[-1] + result.sample_duration_s[-1]]
        y = np.vstack([result.proba, result.proba[-1:]]).T
        proba_ax.stackplot(x, y, colors=[colours[c] for c in result.classes], step="post", linewidth=0)
    proba_ax.set_ylim(0, 1)
    proba_ax.set_yticks([0, 0.5, 1])
    proba_ax.set_ylabel("probability")
    proba_ax.set_xlabel("time (s)")
    band_ax.set_title(_title(result), fontsize=10, loc="left")


def _title(result: VideoScreenTime) -> str:
    order = sorted(result.screen_time_s.items(), key=lambda kv: -kv[1])
    parts = [f"{label} {sec:.1f} s ({100 * result.share[label]:.0f}%)" for label, sec in order if sec > 0]
    if result.multi_label:
        parts.append(f"together {result.together_s:.1f} s")
    return f"{result.video_id}  ({result.duration_s:.1f} s):  " + ",  ".join(parts)


def _panel_rects(index: int, height_in: float) -> tuple[list[float], list[float]]:
    """Figure-fraction rectangles [left, bottom, width, height] of video `index`'s band and probabilities.

    Inside its 2.5 in panel: 0.35 in for the title, a 0.45 in band, 1.05 in of probabilities, then
    0.65 in for the time axis and its label.
    """
    panel_top_in = height_in - LEGEND_HEIGHT_IN - index * PANEL_HEIGHT_IN
    band_top_in = panel_top_in - 0.35
    proba_top_in = band_top_in - 0.45
    proba_bottom_in = proba_top_in - 1.05
    left, width = 0.07, 0.91
    band = [left, proba_top_in / height_in, width, 0.45 / height_in]
    proba = [left, proba_bottom_in / height_in, width, 1.05 / height_in]
    return band, proba


def _class_colours(classes: list[str]) -> dict[str, tuple]:
    from matplotlib import colormaps

    cmap = colormaps["tab10" if len(classes) <= 10 else "tab20"]
    return {c: cmap(i % cmap.N) for i, c in enumerate(classes)}
