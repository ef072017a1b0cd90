"""Timeline PNG of score results: per video, who is on screen when, the class probabilities, and beside them each
class's screen time as a bar with its likely range as an error bar (issue 26).

For a multi-label model (issue 11) the band has one row per character, so time shared on screen shows as
overlapping bars, and each character's probability of being on screen is drawn as its own line. A video unlike
the training videos says so in red in its title line (`classifiers.output.notes`).

Rendered with matplotlib's Agg canvas directly (no pyplot state, no display needed).
"""

from __future__ import annotations

import os
import re
import unicodedata
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np

from classifiers.chain.timeline import VideoScreenTime
from featurestore.files import atomic_output

from .colours import class_colours
from .notes import unlike_note
from .numbers import clock_ticks, format_clock

FIG_WIDTH_IN = 12.0
#: Where the timeline sits across the figure (fractions of its width); the screen-time bars to its right.
TIMELINE_LEFT, TIMELINE_WIDTH = 0.07, 0.68
BARS_LEFT, BARS_WIDTH = 0.855, 0.13
LEGEND_HEIGHT_IN = 0.5  # one row of legend (more rows for many classes or long names)
DPI = 100
#: Many classes (issue: 12 to 30 characters): each class's bar (and multi-label band row) gets at least this much
#: height, the legend wraps into rows, and a name longer than NAME_CHARS is cut with an ellipsis (whole in the JSON,
#: CSV and report); the timeline narrows so the bars' names never run over it.
ROW_IN, LEGEND_ROW_IN, NAME_CHARS = 0.16, 0.21, 28
TITLE_IN, BAND_IN, PROBA_IN, AXIS_IN = 0.35, 0.45, 1.05, 0.65
CHAR_IN = 0.075  # the width of a character at the bars' 9 pt, about
BAND_NAME_CHARS = 22
#: Fonts for names DejaVu Sans cannot draw (李小龙, and the rest of CJK), used where installed.
FALLBACK_FONTS = ("Noto Sans CJK JP", "Noto Sans CJK SC", "Noto Sans Arabic", "WenQuanYi Zen Hei", "Droid Sans Fallback",
                  "Arial Unicode MS")
MISSING_GLYPH = re.compile(r"Glyph (\d+) .*missing from font")
CLOCK_FROM_S = 180.0  # a timeline this long or longer is labelled m:ss or h:mm:ss, a shorter one in seconds


def figure_size_px(n_videos: int, n_classes: int = 3, *, multi_label: bool = False,
                   names: Sequence[str] = ()) -> tuple[int, int]:
    """(width, height) in pixels of the PNG `plot_timelines` writes for `n_videos` videos of `n_classes` classes.

    Width is 12 in at 100 dpi; height 0.5 in (the legend) + 2.5 in per video with up to 9 classes and short `names`,
    (1200, 50 + 250 * n_videos); taller for more classes (0.16 in a class) and for a legend of several rows.
    """
    height_in = _heights_in(names or ["x"] * n_classes, [(n_classes, multi_label)] * n_videos)[2]
    return int(round(FIG_WIDTH_IN * DPI)), int(round(height_in * DPI))


def _heights_in(names: Sequence[str], panels: Sequence[tuple[int, bool]]) -> tuple[float, list, float]:
    """(legend, each panel's (band, probabilities), whole figure) heights in inches of a figure with a legend of
    `names` and one panel per (n_classes, multi_label) of `panels`: what `_figure` draws, `figure_size_px` says."""
    heights = [_panel_heights(n_classes, multi_label) for n_classes, multi_label in panels]
    legend_in = _legend_height_in(names)
    return legend_in, heights, legend_in + sum(TITLE_IN + band + proba + AXIS_IN for band, proba in heights)


def short_name(name: str, limit: int = NAME_CHARS) -> str:
    """`name` as the PNG shows it: whole up to `limit` characters, else cut in the middle with an ellipsis (the actor
    and the role of "Sir Patrick Stewart as Captain Jean-Luc Picard" both stay); a right-to-left name (العربية)
    isolated (U+2068 ... U+2069), so that the seconds after it stay after it."""
    head = (limit - 1) * 3 // 5
    name = name if len(name) <= limit else name[:head].rstrip() + "…" + name[len(name) - (limit - 1 - head):].lstrip()
    return f"\u2068{name}\u2069" if any(unicodedata.bidirectional(ch) in ("R", "AL") for ch in name) else name


def _panel_heights(n_classes: int, multi_label: bool) -> tuple[float, float]:
    """(band, probabilities) heights in inches: a row per character in a multi-label band, a bar per class beside."""
    band_in = max(BAND_IN, ROW_IN * n_classes) if multi_label else BAND_IN
    return band_in, max(PROBA_IN, ROW_IN * n_classes - band_in)


def _legend_columns(names: Sequence[str]) -> int:
    widest_in = 0.5 + 0.08 * max((len(short_name(n)) for n in names), default=1)  # the swatch, the name at 10 pt
    return max(1, min(len(names), 8, int((FIG_WIDTH_IN - 0.5) // widest_in)))


def _legend_height_in(names: Sequence[str]) -> float:
    rows = -(-len(names) // _legend_columns(names)) if names else 1
    return max(LEGEND_HEIGHT_IN, 0.1 + LEGEND_ROW_IN * rows)


def _timeline_span(results: Sequence[VideoScreenTime]) -> tuple[float, float]:
    """The timeline's (left, width), fractions of the figure's width: narrower when names need the room, the bars'
    on its right and a multi-label band's on its left."""
    chars = max((len(_bar_label(c, r.screen_time_s.get(c, 0.0))) for r in results for c in r.classes), default=0)
    rows = max((len(short_name(c, BAND_NAME_CHARS)) for r in results if r.multi_label for c in r.classes), default=0)
    left = max(TIMELINE_LEFT, (rows * CHAR_IN * 8 / 9 + 0.15) / FIG_WIDTH_IN)
    return left, min(TIMELINE_LEFT + TIMELINE_WIDTH, BARS_LEFT - (chars * CHAR_IN + 0.15) / FIG_WIDTH_IN) - left


def _bar_label(name: str, seconds: float) -> str:
    return f"{short_name(name, 22)} {seconds:.1f} s"


def plot_timelines(path: str | os.PathLike, results: Sequence[VideoScreenTime], classes: Sequence[str] | None = None) -> Path:
    """Write a timeline PNG with one panel per video; returns the path.

    Each panel has a coloured band showing the chosen class over time, and under it the class
    probabilities stacked to 1, in the same colours; the title gives the video and its screen times.
    Multi-label results get one band row per character (overlaps show) and one probability line each.
    The size is `figure_size_px`: taller with many classes or long names.

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
    from matplotlib import rc_context

    results = list(results)
    if not results:
        raise ValueError("plot_timelines needs at least one video result")
    path = Path(path)
    with rc_context({"font.family": ["DejaVu Sans", *_fallback_fonts()]}), warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fig = _figure(results, classes)
        with atomic_output(path) as tmp:
            fig.savefig(tmp, dpi=DPI, format="png")
    missing = list(dict.fromkeys(chr(int(m.group(1))) for w in seen if (m := MISSING_GLYPH.search(str(w.message)))))
    for w in seen:
        if not MISSING_GLYPH.search(str(w.message)):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if missing:  # one line, not matplotlib's three per character
        warnings.warn(f"no installed font draws {' '.join(missing)}: the timeline PNG shows them as boxes "
                      f"(the report and the other files show them); install a font that has them, such as "
                      f"{' or '.join(FALLBACK_FONTS[:2])}, and it is used", UserWarning, stacklevel=2)
    return path


def _fallback_fonts() -> list[str]:
    """The fonts of `FALLBACK_FONTS` installed here, for the characters DejaVu Sans lacks (matplotlib >= 3.6 falls
    back glyph by glyph along font.family); only installed ones, as matplotlib logs each family it cannot find."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    return [f for f in FALLBACK_FONTS if f in installed]


def _figure(results: list[VideoScreenTime], classes: Sequence[str] | None):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    classes = [str(c) for c in (classes if classes is not None else results[0].classes)]
    for r in results:
        classes += [c for c in r.classes if c not in classes]
    colours = _class_colours(classes)

    legend_in, heights, height_in = _heights_in(classes, [(len(r.classes), r.multi_label) for r in results])
    timeline_x, timeline_w = _timeline_span(results)
    fig = Figure(figsize=(FIG_WIDTH_IN, height_in), dpi=DPI)
    FigureCanvasAgg(fig)
    top_in = height_in - legend_in
    for i, result in enumerate(results):
        band_rect, proba_rect = _panel_rects(top_in, height_in, *heights[i], timeline_x, timeline_w)
        top_in -= TITLE_IN + sum(heights[i]) + AXIS_IN
        band_ax = fig.add_axes(band_rect)
        proba_ax = fig.add_axes(proba_rect, sharex=band_ax)
        _draw_video(band_ax, proba_ax, result, colours)
        bars_ax = fig.add_axes([BARS_LEFT, proba_rect[1], BARS_WIDTH, band_rect[1] + band_rect[3] - proba_rect[1]])
        _draw_bars(bars_ax, result, colours)
        note = unlike_note(result)
        if note:
            fig.text(timeline_x + timeline_w, band_rect[1] + band_rect[3] + 0.08 / height_in, note.upper(),
                     ha="right", va="bottom", color="#c0392b", fontsize=10, fontweight="bold")

    handles = [Patch(facecolor=colours[c], label=short_name(c)) for c in classes]
    fig.legend(handles=handles, loc="upper center", ncol=_legend_columns(classes), frameon=False,
               bbox_to_anchor=(0.5, 1.0), fontsize=10)
    return fig


def _draw_characters(band_ax, proba_ax, result: VideoScreenTime, colours: dict[str, tuple]) -> None:
    """Multi-label: one band row per character (top to bottom in class order), one probability line each."""
    n = len(result.classes)
    for j, c in enumerate(result.classes):
        spans = [(seg.start_s, seg.duration_s) for seg in result.segments if seg.label == c]
        if spans:
            band_ax.broken_barh(spans, (n - 1 - j + 0.1, 0.8), facecolors=colours[c], edgecolor="none")
    band_ax.set_ylim(0, n)
    band_ax.set_yticks([n - 1 - j + 0.5 for j in range(n)], [short_name(c, BAND_NAME_CHARS) for c in result.classes], fontsize=8)
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
    if end_s >= CLOCK_FROM_S:  # a long video reads in minutes and hours, as the report's timeline: 1:00:00, not 3600
        proba_ax.set_xticks(clock_ticks(end_s), [format_clock(t) for t in clock_ticks(end_s)])
        proba_ax.set_xlabel("time (h:mm:ss)" if end_s >= 3600 else "time (m:ss)")
    else:
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
    ax.set_yticks(y, [_bar_label(c, s) for c, s in zip(classes, seconds)], fontsize=9)
    ax.set_ylim(-0.5, len(classes) - 0.5)
    ax.tick_params(axis="x", labelsize=8)
    ax.set_xlabel("seconds on screen" + ("\n(bars: likely range)" if interval is not None else ""), fontsize=9)


def _title(result: VideoScreenTime) -> str:
    return f"{result.video_id}  ({result.duration_s:.1f} s)"


def _panel_rects(top_in: float, height_in: float, band_in: float, proba_in: float, left: float = TIMELINE_LEFT,
                 width: float = TIMELINE_WIDTH) -> tuple[list[float], list[float]]:
    """Figure-fraction rectangles [left, bottom, width, height] of a video's band and probabilities.

    Its panel starts `top_in` from the figure's bottom: 0.35 in for the title, the band (0.45 in), the probabilities
    (1.05 in), then 0.65 in for the time axis and its label; band and probabilities taller for many classes.
    """
    band_top_in = top_in - TITLE_IN
    proba_top_in = band_top_in - band_in
    band = [left, proba_top_in / height_in, width, band_in / height_in]
    proba = [left, (proba_top_in - proba_in) / height_in, width, proba_in / height_in]
    return band, proba


def _class_colours(classes: list[str]) -> dict[str, tuple]:
    """class -> RGBA, the report's colours (`classifiers.output.colours`)."""
    from matplotlib.colors import to_rgba

    return {c: to_rgba(hex_colour) for c, hex_colour in class_colours(classes).items()}
