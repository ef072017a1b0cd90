"""Timeline plot: a valid PNG of the documented pixel size."""

import struct

import numpy as np
import pytest

from classifiers.output.plot import figure_size_px, plot_timelines
from classifiers.chain.timeline import summarize_video

CLASSES = ["tom", "jerry", "none"]


def png_size(path):
    """(width, height) from a PNG's signature and IHDR chunk."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def make_result(video_id, n_samples, seed):
    rng = np.random.default_rng(seed)
    proba = rng.dirichlet(np.ones(3), size=n_samples)
    return summarize_video(video_id, np.arange(n_samples, dtype=float), proba, CLASSES, n_samples - 0.5, 1.0)


@pytest.mark.parametrize("n_videos", [1, 3])
def test_plot_timelines_writes_png_of_expected_size(tmp_path, n_videos):
    results = [make_result(f"ep{i}.mp4", 40 + 10 * i, i) for i in range(n_videos)]
    path = plot_timelines(tmp_path / "timeline.png", results, CLASSES)
    assert png_size(path) == figure_size_px(n_videos) == (1200, 50 + 250 * n_videos)


def test_plot_timelines_handles_empty_video(tmp_path):
    empty = summarize_video("empty.mp4", np.zeros(0), np.zeros((0, 3)), CLASSES, 0.0, 1.0)
    path = plot_timelines(tmp_path / "t.png", [empty, make_result("a.mp4", 5, 0)])
    assert png_size(path) == figure_size_px(2)


def test_plot_timelines_rejects_no_results(tmp_path):
    with pytest.raises(ValueError, match="at least one"):
        plot_timelines(tmp_path / "t.png", [], CLASSES)


def test_plot_timelines_multi_label_one_band_per_character_shows_overlap(tmp_path):
    """jerry on screen 0-20 s, tom 10-30 s of 40 s: at 15 s both bands are coloured, at 5 s jerry's only, at 35 s none."""
    import cv2

    from classifiers.output.plot import DPI, LEGEND_HEIGHT_IN, TIMELINE_LEFT, TIMELINE_WIDTH, _class_colours
    from classifiers.chain.presence import summarize_presence

    t = np.arange(40.0)
    proba = np.column_stack([(t < 20) * 0.9 + 0.05, ((t >= 10) & (t < 30)) * 0.9 + 0.05])
    result = summarize_presence("ep.mp4", t, proba, ["jerry", "tom"], np.array([0.5, 0.5]), 40.0, 1.0)
    path = plot_timelines(tmp_path / "t.png", [result])
    assert png_size(path) == figure_size_px(1)
    image = cv2.imread(str(path))[:, :, ::-1]  # RGB
    colours = {c: np.round(np.array(rgba[:3]) * 255) for c, rgba in _class_colours(["jerry", "tom"]).items()}
    band_top = int((LEGEND_HEIGHT_IN + 0.35) * DPI)  # the band is 0.45 in high, under the title
    band = image[band_top: band_top + int(0.45 * DPI)]

    def shown(time_s):
        x = int(round((TIMELINE_LEFT + TIMELINE_WIDTH * time_s / 40.0) * figure_size_px(1)[0]))
        return {c for c, rgb in colours.items() if np.any(np.abs(band[:, x].astype(int) - rgb).max(axis=1) <= 2)}

    assert shown(15.0) == {"jerry", "tom"} and shown(5.0) == {"jerry"} and shown(25.0) == {"tom"} and shown(35.0) == set()


def test_plot_timelines_error_bars_and_the_unlike_note(tmp_path):
    """Issue 26: each video's screen time as bars with its likely range as error bars right of the timeline, and a
    video unlike the training videos says so in red in its title line."""
    import cv2

    from classifiers.output.plot import BARS_LEFT, BARS_WIDTH

    plain = make_result("plain.mp4", 40, 0)
    flagged = make_result("odd.mp4", 40, 1)
    flagged.unlike_training = True
    for r in (plain, flagged):
        r.screen_time_interval_s = {c: (max(0.0, s - 8.0), min(r.duration_s, s + 8.0)) for c, s in r.screen_time_s.items()}
    path = plot_timelines(tmp_path / "t.png", [plain, flagged], CLASSES)
    image = cv2.imread(str(path))[:, :, ::-1].astype(int)
    red = np.all(np.abs(image - [0xC0, 0x39, 0x2B]) <= 40, axis=2)
    rows = np.flatnonzero(red.any(axis=1))
    assert len(rows) and rows.min() > 50 + 250  # only in the second panel (the legend is 50 px, a panel 250 px)
    plain.screen_time_interval_s = flagged.screen_time_interval_s = None
    without = cv2.imread(str(plot_timelines(tmp_path / "u.png", [plain, flagged], CLASSES)))[:, :, ::-1].astype(int)

    def dark(img):  # the error bars' black lines, right of the timeline
        return np.all(img[:, int(BARS_LEFT * 1200): int((BARS_LEFT + BARS_WIDTH) * 1200)] <= 60, axis=2)

    more = dark(image).astype(int) - dark(without)
    assert more[50:300].sum() > 40 and more[300:].sum() > 40


NAMES = ["Sir Patrick Stewart as Captain Jean-Luc Picard", "Zoë", "Ægir", "العربية", "<b>bold</b>", "Tom & Jerry",
         'He said "hi", then left', "x --> y", "{\\an8}top"]


def many_classes(n, multi_label):
    """A 600 s video of `n` classes with long, unicode and right-to-left names: each class on screen in 20 s blocks."""
    from classifiers.chain.presence import summarize_presence

    classes = (NAMES + [f"Character number {i} with a fairly long name" for i in range(n)])[:n]
    rng = np.random.default_rng(0)
    t = np.arange(600.0)
    if multi_label:
        on = np.repeat(rng.random((30, n)) < 0.25, 20, axis=0)
        result = summarize_presence("ep.mp4", t, 0.1 + 0.8 * on, classes, np.full(n, 0.5), 600.0, 1.0)
    else:
        proba = np.eye(n)[np.repeat(rng.integers(0, n, 30), 20)] * 0.8 + 0.2 / n
        result = summarize_video("ep.mp4", t, proba, classes, 600.0, 1.0)
    result.screen_time_interval_s = {c: (max(0.0, s - 9), s + 9) for c, s in result.screen_time_s.items()}
    return result


@pytest.mark.parametrize("n, multi_label", [(12, False), (30, False), (12, True), (30, True)])
def test_plot_timelines_with_many_long_names_overlaps_nothing(tmp_path, monkeypatch, n, multi_label):
    """12 and 30 classes with long names (issue: real casts): the PNG grows to fit, every class has a colour of its
    own, the legend is inside the figure, the bars' names neither overlap each other nor run over the timeline, and
    a multi-label band's names are inside the figure, one row apart."""
    from matplotlib.figure import Figure

    figures = []
    save = Figure.savefig
    monkeypatch.setattr(Figure, "savefig", lambda self, *a, **k: (figures.append(self), save(self, *a, **k))[1])
    result = many_classes(n, multi_label)
    path = plot_timelines(tmp_path / "t.png", [result, result])
    [fig] = figures
    renderer = fig.canvas.get_renderer()
    width, height = png_size(path)
    assert (width, height) == figure_size_px(2, n, multi_label=multi_label, names=result.classes)
    assert width == 1200 and height > 50 + 250 * 2  # taller than two videos of up to 9 classes with short names
    band, proba, bars = fig.axes[:3]

    def boxes(labels):
        return [t.get_window_extent(renderer) for t in labels if t.get_text()]

    names = boxes(bars.get_yticklabels())
    assert len(names) == n
    assert all(a.y1 <= b.y0 + 0.5 or b.y1 <= a.y0 + 0.5 for i, a in enumerate(names) for b in names[i + 1:])
    timeline_right = band.get_window_extent(renderer).x1
    assert min(b.x0 for b in names) >= timeline_right  # no name runs over the timeline
    legend = fig.legends[0].get_window_extent(renderer)
    assert legend.x0 >= 0 and legend.x1 <= width and legend.y1 <= height
    assert legend.y0 >= band.get_window_extent(renderer).y1  # above the first panel
    if multi_label:
        rows = boxes(band.get_yticklabels())
        assert len(rows) == n and min(b.x0 for b in rows) >= 0
        assert all(a.y1 <= b.y0 + 0.5 or b.y1 <= a.y0 + 0.5 for i, a in enumerate(rows) for b in rows[i + 1:])
    colours = [tuple(p.get_facecolor()) for p in bars.patches]
    assert len(set(colours)) == n  # no two classes share a colour


def test_short_name_keeps_both_ends_and_isolates_right_to_left():
    from classifiers.output.plot import short_name

    assert short_name("Zoë") == "Zoë"
    cut = short_name("Sir Patrick Stewart as Captain Jean-Luc Picard")
    assert len(cut) == 28 and cut.startswith("Sir Patrick") and cut.endswith("Picard") and "…" in cut
    assert short_name("العربية") == "\u2068العربية\u2069"


def test_plot_timelines_of_a_long_video_reads_its_time_as_a_clock(tmp_path, monkeypatch):
    """A 2-hour video's time axis says 0:00, 30:00, 1:00:00, 1:30:00 (it said 0, 1000 ... 7000 s)."""
    from matplotlib.figure import Figure

    figures = []
    save = Figure.savefig
    monkeypatch.setattr(Figure, "savefig", lambda self, *a, **k: (figures.append(self), save(self, *a, **k))[1])
    plot_timelines(tmp_path / "t.png", [make_result("long.mp4", 7200, 0), make_result("short.mp4", 40, 1)])
    axes = figures[0].axes
    long_ticks = [t.get_text() for t in axes[1].get_xticklabels()]
    assert long_ticks[0] == "0:00" and "1:00:00" in long_ticks and "1:30:00" in long_ticks and len(long_ticks) <= 10
    assert axes[1].get_xlabel() == "time (h:mm:ss)" and axes[4].get_xlabel() == "time (s)"


def test_plot_timelines_says_once_which_characters_no_font_draws(tmp_path, monkeypatch):
    """李小龙 with only DejaVu Sans installed: one warning naming the three characters (matplotlib gave one per
    glyph and draw, nine lines on the terminal), and the PNG is written."""
    import warnings

    import classifiers.output.plot as plot

    monkeypatch.setattr(plot, "_fallback_fonts", lambda: [])  # as where no CJK font is installed
    result = summarize_video("ep.mp4", np.arange(20.0), np.eye(2)[np.arange(20) // 10], ["李小龙", "Zoë"], 20.0, 1.0)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        path = plot_timelines(tmp_path / "t.png", [result])
    messages = [str(w.message) for w in seen]
    assert messages == ["no installed font draws 李 小 龙: the timeline PNG shows them as boxes (the report and the other "
                        "files show them); install a font that has them, such as Noto Sans CJK JP or Noto Sans CJK SC, "
                        "and it is used"]
    assert png_size(path) == figure_size_px(1, 2)
