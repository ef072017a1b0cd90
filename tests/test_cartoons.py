"""Tests for cartoons.synthetic: scripts, determinism, labels and what the frames show."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

import cartoons.synthetic as synthetic
from classifiers.data.labels import parse_labels
from cartoons.synthetic import (
    CLASSES, HELD_OUT_STYLES, TRAIN_STYLES, make_dataset, make_video, true_screen_time, write_interval_labels,
)


def read_frames(path) -> np.ndarray:
    """Every frame of a video, (n_frames, height, width, 3) uint8 BGR."""
    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    return np.stack(frames)


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """A 30 s training-style video at 10 fps, 160x120 px, seed 7 (holds all three classes)."""
    return make_video(tmp_path_factory.mktemp("syn") / "clip.mp4", duration_s=30.0, seed=7, size=(160, 120))


def test_make_video_same_seed_same_frames(tmp_path):
    a = make_video(tmp_path / "a.mp4", duration_s=4.0, seed=3, size=(96, 72))
    b = make_video(tmp_path / "b.mp4", duration_s=4.0, seed=3, size=(96, 72))
    c = make_video(tmp_path / "c.mp4", duration_s=4.0, seed=4, size=(96, 72))
    assert a.shots == b.shots
    assert np.array_equal(read_frames(a.path), read_frames(b.path))
    assert not np.array_equal(read_frames(a.path), read_frames(c.path))


def test_make_video_writes_frames_size_and_rate(clip):
    frames = read_frames(clip.path)
    assert frames.shape == (300, 120, 160, 3)
    cap = cv2.VideoCapture(str(clip.path))
    assert cap.get(cv2.CAP_PROP_FPS) == pytest.approx(10.0)
    cap.release()


@pytest.mark.parametrize("seed", range(20))
def test_script_shots_tile_duration(seed):
    shots = synthetic._script(n_frames=601, fps=10.0, classes=list(CLASSES), rng=np.random.default_rng(seed))
    assert shots[0][0] == 0 and shots[-1][1] == 601
    for (_, end, label), (start, _, next_label) in zip(shots, shots[1:]):
        assert end == start and label != next_label
    lengths = np.array([end - start for start, end, _ in shots[:-1]])
    assert np.all((lengths >= 20) & (lengths <= 120))  # 2-12 s at 10 fps


def test_true_screen_time_sums_to_duration(clip):
    totals = true_screen_time(clip)
    assert set(totals) == set(CLASSES)
    assert sum(totals.values()) == pytest.approx(clip.duration_s) == pytest.approx(30.0)
    assert clip.shots[0].start_s == 0.0 and clip.shots[-1].end_s == pytest.approx(30.0)
    assert all(a.end_s == b.start_s for a, b in zip(clip.shots, clip.shots[1:]))


def test_write_interval_labels_parses_as_intervals(tmp_path, clip):
    other = make_video(tmp_path / "other.mp4", duration_s=5.0, seed=1, size=(64, 48))
    path = write_interval_labels(tmp_path / "labels.csv", [clip, other])
    table = parse_labels(path)
    assert table.kind == "intervals"
    assert len(table.rows) == len(clip.shots) + len(other.shots)
    first = table.rows[0]
    assert (first.video, first.start_s, first.end_s, first.label) == ("clip.mp4", 0.0, clip.shots[0].end_s, clip.shots[0].label)
    assert sum(r.end_s - r.start_s for r in table.rows if r.video == "clip.mp4") == pytest.approx(30.0)


def _colour_share(frames: np.ndarray, hue: tuple, sat: tuple, val: tuple) -> float:
    """Share of pixels whose OpenCV hue (0-179), saturation and value (0-255) fall in the ranges."""
    hsv = cv2.cvtColor(frames.reshape(-1, frames.shape[2], 3), cv2.COLOR_BGR2HSV)
    inside = [(hsv[..., k] >= lo) & (hsv[..., k] <= hi) for k, (lo, hi) in enumerate((hue, sat, val))]
    return float(np.mean(inside[0] & inside[1] & inside[2]))


def test_make_video_characters_have_their_colours(clip):
    frames = read_frames(clip.path)
    by_label = {c: np.concatenate([frames[int(s.start_s * 10):int(s.end_s * 10)] for s in clip.shots if s.label == c]) for c in CLASSES}
    orange = {c: _colour_share(f, (8, 18), (160, 255), (130, 255)) for c, f in by_label.items()}  # jerry's fur
    blue_grey = {c: _colour_share(f, (100, 115), (40, 95), (120, 180)) for c, f in by_label.items()}  # tom's fur
    assert orange["jerry"] > 0.002 and orange["jerry"] > 3 * max(orange["tom"], orange["neither"], 1e-4)
    assert blue_grey["tom"] > 0.01 and blue_grey["tom"] > 3 * max(blue_grey["jerry"], blue_grey["neither"], 1e-4)


def test_make_dataset_held_out_styles_and_motion_differ(tmp_path):
    train, test = make_dataset(tmp_path, n_train=2, n_test=2, duration_s=3.0, size=(64, 48))
    assert [v.path.name for v in train] == ["train_0.mp4", "train_1.mp4"]
    assert {v.style for v in train} <= {s.name for s in TRAIN_STYLES}
    assert {v.style for v in test} <= {s.name for s in HELD_OUT_STYLES}
    assert not {v.style for v in train} & {v.style for v in test}
    assert {v.motion for v in train} == {"train"} and {v.motion for v in test} == {"held_out"}
    backgrounds = [read_frames(v.path).reshape(-1, 3).mean(axis=0) for v in train + test]
    assert min(np.abs(t - s).max() for t in backgrounds[2:] for s in backgrounds[:2]) > 10  # grey levels


def test_make_video_refuses_unknown_style(tmp_path):
    with pytest.raises(ValueError, match="unknown style 'moon'"):
        make_video(tmp_path / "x.mp4", duration_s=1.0, seed=0, style="moon")
