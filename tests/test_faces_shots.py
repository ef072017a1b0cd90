"""Shot cuts by PySceneDetect on videos the tests write, with cuts at known times (also at a variable frame rate)."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from conftest import ffmpeg, frame_pts

if importlib.util.find_spec("scenedetect") is None:  # the faces extra is in the test extra: CI must have it
    if os.environ.get("CI"):
        raise ImportError("scenedetect is missing; CI installs pip install -e '.[test]', which brings the faces extra")
    pytest.skip("scenedetect is not installed (pip install 'screentime[faces]')", allow_module_level=True)

from featurestore.errors import FacesUnavailable, VideoUnreadable  # noqa: E402
from featurestore.video.shots import detect_cuts  # noqa: E402

SHOT_COLOURS = [(200, 40, 40), (40, 220, 220), (20, 20, 120), (230, 230, 230)]  # BGR: changes in hue and luma


def write_shots(path: Path, fps: float, shot_frames: list[int], size=(96, 64)) -> Path:
    """A video of shots: shot k is `shot_frames[k]` frames of one colour with a moving bar (motion, no cut)."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    for k, n in enumerate(shot_frames):
        for i in range(n):
            img = np.empty((size[1], size[0], 3), np.uint8)
            img[:] = SHOT_COLOURS[k % len(SHOT_COLOURS)]
            x = (3 * i) % (size[0] - 8)
            img[10:20, x : x + 8] = 0
            writer.write(img)
    writer.release()
    return path


def test_cuts_found_at_known_times(tmp_path):
    path = write_shots(tmp_path / "shots.mp4", 10, [15, 17, 20])  # cuts at frames 15 and 32: 1.5 s and 3.2 s
    np.testing.assert_allclose(detect_cuts(path), [1.5, 3.2], atol=1e-6)


def test_no_cut_in_one_shot(tmp_path):
    path = write_shots(tmp_path / "one.mp4", 10, [30])
    assert detect_cuts(path).shape == (0,)


def test_cut_times_are_presentation_times_at_a_variable_frame_rate(tmp_path):
    cfr = write_shots(tmp_path / "cfr.mp4", 10, [15, 15])
    vfr = tmp_path / "vfr.mkv"
    # frame n shown at 0.004 n^2 s: frame 15 (the cut) at 0.9 s, where its number at the mean rate says otherwise
    ffmpeg("-i", str(cfr), "-vf", "setpts='0.004*N*N/TB'", "-fps_mode", "passthrough", "-c:v", "ffv1", str(vfr))
    pts = frame_pts(vfr)
    cuts = detect_cuts(vfr)
    assert len(cuts) == 1
    assert cuts[0] == pytest.approx(pts[15], abs=2e-3)
    assert cuts[0] == pytest.approx(0.9, abs=2e-3)


def test_missing_video_is_unreadable(tmp_path):
    with pytest.raises(VideoUnreadable, match="no such video"):
        detect_cuts(tmp_path / "nothing.mp4")


def test_without_pyscenedetect_says_which_pip_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "scenedetect", None)  # import fails as if not installed
    with pytest.raises(FacesUnavailable, match=r"pip install 'screentime\[faces\]'"):
        detect_cuts(tmp_path / "any.mp4")


def textured_shots(path: Path, shot_frames: list[int], size=(320, 180), seed: int = 0) -> Path:
    """Shots of photo-like texture (smoothed noise, a new one per shot) with a square drifting across: motion
    inside a shot, a cut between shots."""
    rng = np.random.default_rng(seed)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10, size)
    for n in shot_frames:
        base = cv2.GaussianBlur(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8), (0, 0), 3)
        base = cv2.convertScaleAbs(base, alpha=float(rng.uniform(0.6, 1.6)), beta=float(rng.uniform(-40, 40)))
        for i in range(n):
            img = base.copy()
            cv2.rectangle(img, (4 * i, 40), (4 * i + 30, 70), (255, 255, 255), -1)
            writer.write(img)
    writer.release()
    return path


@pytest.mark.parametrize("pix_fmt", ["yuv420p", "yuv444p"])
def test_small_frames_find_the_cuts_pyscenedetect_finds_at_its_own_scale(tmp_path, pix_fmt):
    import subprocess

    import scenedetect
    from scenedetect.detectors import ContentDetector

    made = textured_shots(tmp_path / "made.mp4", [23, 31, 12, 40, 18])
    path = tmp_path / f"{pix_fmt}.mp4"  # yuv444p is not 4:2:0: FFmpeg's own BGR conversion is used
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(made), "-c:v", "libx264", "-pix_fmt", pix_fmt, "-crf", "18",
                    str(path)], check=True)
    stock = scenedetect.detect(str(path), ContentDetector(threshold=27.0, min_scene_len=5), backend="pyav")
    expected = [float(start.seconds) for start, _ in stock[1:]]
    assert len(expected) == 4
    np.testing.assert_allclose(detect_cuts(path), expected, atol=1e-6)


def test_frames_are_converted_at_the_detection_size_not_the_video_size(tmp_path, monkeypatch):
    from featurestore.video import shots

    made = textured_shots(tmp_path / "made.mp4", [12, 15], size=(640, 360))
    path = tmp_path / "x264.mp4"
    ffmpeg("-i", str(made), "-c:v", "libx264", "-pix_fmt", "yuv420p", "-crf", "18", str(path))
    expected = detect_cuts(path)
    heights = []
    convert = cv2.cvtColor

    def spy(image, code, *args, **kwargs):
        heights.append(image.shape[0])
        return convert(image, code, *args, **kwargs)

    monkeypatch.setattr(shots.cv2, "cvtColor", spy)
    np.testing.assert_allclose(detect_cuts(path), expected, atol=1e-6)
    assert len(expected) == 1 and heights
    assert max(heights) <= shots.DETECTION_WIDTH_PX * 3 // 2  # an I420 image of 128 x 72: 108 rows


def test_small_frames_are_the_full_conversion_shrunk():
    import av

    from featurestore.video.shots import small_bgr

    rng = np.random.default_rng(0)
    image = cv2.resize(rng.integers(0, 256, (5, 8, 3), dtype=np.uint8), (640, 360), interpolation=cv2.INTER_LINEAR)
    frame = av.VideoFrame.from_ndarray(image, format="bgr24").reformat(format="yuv420p")

    def shrunk(code):  # converted at full size, then shrunk (as before)
        return cv2.resize(cv2.cvtColor(frame.to_ndarray(), code), (128, 72), interpolation=cv2.INTER_LINEAR)

    full = shrunk(cv2.COLOR_YUV2BGR_I420)
    small = small_bgr(frame, (128, 72))
    assert small.shape == (72, 128, 3)
    assert np.abs(small.astype(int) - full).mean() < 3.0  # the same picture (shrunk before or after: 2 levels apart)
    swapped = shrunk(cv2.COLOR_YUV2BGR_YV12)
    assert np.abs(swapped.astype(int) - full).mean() > 10  # a plane mixed up would show


def test_the_cut_decoder_skips_the_deblocking_filter(tmp_path):
    from featurestore.video.shots import _small_frames

    made = textured_shots(tmp_path / "made.mp4", [6])
    path = tmp_path / "x264.mp4"
    ffmpeg("-i", str(made), "-c:v", "libx264", "-pix_fmt", "yuv420p", str(path))
    video = _small_frames(str(path))
    assert video._codec_context.options == {"skip_loop_filter": "all"}
    assert video.read() is not False
    assert video._codec_context.options == {}  # FFmpeg took it: an option the decoder does not know stays here
