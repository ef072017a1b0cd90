"""Timeline PNG of score results: per video, who is on screen when, the class probabilities, and beside them each
class's screen time as a bar with its likely range as an error bar (issue 26).

For a multi-label model (issue 11) the band has one row per character, so time shared on screen shows as
overlapping bars, and each character's probability of being on screen is drawn as its own line. A video unlike
the training videos says so in red in its title line (`classifiers.output.notes`).

Rendered with matplotlib's Agg canvas directly (no pyplot state, no display needed).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np

from classifiers.chain.timeline import VideoScreenTime
from featurestore.files import atomic_output

from .notes import unlike_note

FIG_WIDTH_IN = 12.0
#: Where the timeline sits across the figure (fractions of its width); the screen-time bars to its right.
TIMELINE_LEFT, TIMELINE_WIDTH = 0.07, 0.68
BARS_LEFT, BARS_WIDTH = 0.855, 0.13
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
        bars_ax = fig.add_axes([BARS_LEFT, proba_rect[1], BARS_WIDTH, band_rect[1] + band_rect[3] - proba_rect[1]])
        _draw_bars(bars_ax, result, colours)
        note = unlike_note(result)
        if note:
            fig.text(TIMELINE_LEFT + TIMELINE_WIDTH, band_rect[1] + band_rect[3] + 0.08 / (height_px / DPI), note.upper(),
                     ha="right", va="bottom", color="#c0392b", fontsize=10, fontweight="bold")

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
    band_ax.set_yticks([n - 1 - j + 0.5 for j in range(n)], result.classes, fontsize=8)
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


def _draw_bars(ax, result: VideoScreenTime, colours: dict[str, tuple]) -> None:
    """Each class's screen time (seconds) as a horizontal bar, its likely range as an error bar, the number beside it."""
    classes = list(result.classes)
    y = np.arange(len(classes))[::-1]
    seconds = np.array([result.screen_time_s.get(c, 0.0) for c in classes])
    interval = result.screen_time_interval_s
    ax.barh(y, seconds, color=[colours[c] for c in classes], height=0.6)
    if interval is not None:
        low = np.array([interval[c][0] for c in classes])
        high = np.array([interval[c][1] for c in classes])
        ax.errorbar(seconds, y, xerr=[np.maximum(seconds - low, 0), np.maximum(high - seconds, 0)], fmt="none",
                    ecolor="#222", elinewidth=1.2, capsize=3)
    end_s = max(result.duration_s, float(seconds.max()) if len(seconds) else 0.0) or 1.0
    ax.set_xlim(0, end_s)
    ax.set_yticks(y, [f"{c} {s:.1f} s" for c, s in zip(classes, seconds)], fontsize=9)
    ax.tick_params(axis="x", labelsize=8)
    ax.set_xlabel("seconds on screen" + ("\n(bars: likely range)" if interval is not None else ""), fontsize=9)


def _title(result: VideoScreenTime) -> str:
    return f"{result.video_id}  ({result.duration_s:.1f} s)"


def _panel_rects(index: int, height_in: float) -> tuple[list[float], list[float]]:
    """Figure-fraction rectangles [left, bottom, width, height] of video `index`'s band and probabilities.

    Inside its 2.5 in panel: 0.35 in for the title, a 0.45 in band, 1.05 in of probabilities, then
    0.65 in for the time axis and its label.
    """
    panel_top_in = height_in - LEGEND_HEIGHT_IN - index * PANEL_HEIGHT_IN
    band_top_in = panel_top_in - 0.35
    proba_top_in = band_top_in - 0.45
    proba_bottom_in = proba_top_in - 1.05
    left, width = TIMELINE_LEFT, TIMELINE_WIDTH
    band = [left, proba_top_in / height_in, width, 0.45 / height_in]
    proba = [left, proba_bottom_in / height_in, width, 1.05 / height_in]
    return band, proba


def _class_colours(classes: list[str]) -> dict[str, tuple]:
    from matplotlib import colormaps

    cmap = colormaps["tab10" if len(classes) <= 10 else "tab20"]
    return {c: cmap(i % cmap.N) for i, c in enumerate(classes)}
