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
