"""Timeline plot: a valid PNG of the documented pixel size."""

import struct

import numpy as np
import pytest

from classifiers.plot import figure_size_px, plot_timelines
from classifiers.timeline import summarize_video

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
