"""Sampling by the video's clock: requested grid, frame on screen, real files at common and variable rates."""

import numpy as np
import pytest

from conftest import ffmpeg, frame_pts, write_video
from featurestore.video.clock import frames_on_screen, sample_times
from featurestore.video.opencv import Cv2VideoReader


def test_sample_times_grid_stops_before_end():
    np.testing.assert_allclose(sample_times(5.5, 1.0), [0, 1, 2, 3, 4, 5])
    np.testing.assert_allclose(sample_times(5.0, 1.0), [0, 1, 2, 3, 4])
    np.testing.assert_allclose(sample_times(1.0, 4.0), [0, 0.25, 0.5, 0.75])


def test_sample_times_short_video_gives_one_sample_at_zero():
    np.testing.assert_array_equal(sample_times(0.3, 1.0), [0.0])


def test_sample_times_rejects_bad_rate():
    with pytest.raises(ValueError, match="positive"):
        sample_times(3.0, 0)


def test_frames_on_screen_takes_last_frame_not_after_t():
    pts = np.array([0.0, 0.4, 0.8, 1.2, 2.5])
    np.testing.assert_array_equal(frames_on_screen(pts, [0.0, 1.0, 2.0, 2.5, 3.0]), [0, 2, 3, 4, 4])


@pytest.mark.parametrize("fps", [23.976, 25.0, 29.97, 30.0, 60.0])
def test_reader_samples_frame_on_screen_at_common_rates(tmp_path, fps):
    n_frames = int(fps * 6.5)
    path = write_video(tmp_path / f"v{fps}.mp4", fps, n_frames)
    samples = list(Cv2VideoReader(path).sample(1.0))
    requested = np.array([s[0] for s in samples])
    actual = np.array([s[1] for s in samples])
    pts = np.arange(n_frames) / fps
    np.testing.assert_allclose(requested, np.arange(7.0))  # 6.5 s of video: t = 0..6
    np.testing.assert_allclose(actual, pts[frames_on_screen(pts, requested)], atol=2e-3)
    # not the frame_index % floor(fps) rule, which drifts at 29.97 and 23.976
    assert abs(actual[-1] - 6.0) < 1.0 / fps


def test_reader_sample_count_does_not_drift_at_29_97(tmp_path):
    fps, seconds = 29.97, 20
    path = write_video(tmp_path / "ntsc.avi", fps, int(fps * seconds), fourcc="MJPG")
    samples = list(Cv2VideoReader(path).sample(1.0))
    assert len(samples) == seconds  # frame_index % 29 would give 21
    assert abs(samples[-1][1] - (seconds - 1)) < 1 / fps


def test_reader_frame_content_matches_actual_time(tmp_path):
    path = write_video(tmp_path / "levels.avi", 10, 45, fourcc="MJPG")
    for requested_s, actual_s, frame in Cv2VideoReader(path).sample(2.0):
        index = round(actual_s * 10)
        assert abs(float(frame.mean()) - (6 * index) % 240) < 4


def test_reader_variable_frame_rate(tmp_path):
    """Frames every 0.1 s until 2 s, then every 0.3 s: the frame on screen at t=3 is the one shown at 2.9 s."""
    path = tmp_path / "vfr.mkv"
    ffmpeg("-f", "lavfi", "-i", "color=c=black:s=64x48:r=10:d=4,geq=lum='6*N':cb=128:cr=128",
           "-vf", "settb=1/1000,setpts='if(lt(N,20),N*0.1,2+(N-20)*0.3)/TB'", "-fps_mode", "vfr",
           "-c:v", "libx264", "-qp", "0", "-pix_fmt", "yuv420p", str(path))
    pts = frame_pts(path)
    assert np.ptp(np.diff(pts)) > 0.15, "ffmpeg did not write a variable-rate file"
    samples = list(Cv2VideoReader(path).sample(1.0))
    requested = np.array([s[0] for s in samples])
    actual = np.array([s[1] for s in samples])
    np.testing.assert_allclose(actual, pts[frames_on_screen(pts, requested)], atol=1e-3)
    assert actual[3] == pytest.approx(2.9, abs=1e-3)
    for (_, actual_s, frame) in samples:
        index = int(np.argmin(np.abs(pts - actual_s)))
        expected_level = np.clip((6 * index - 16) * 255 / 219, 0, 255)  # limited-range luma to RGB
        assert abs(float(frame.mean()) - expected_level) < 4


def test_reader_skips_conversion_before_start_index(tmp_path):
    path = write_video(tmp_path / "v.avi", 10, 60, fourcc="MJPG")
    samples = list(Cv2VideoReader(path).sample(1.0, start_index=3))
    np.testing.assert_allclose([s[0] for s in samples], [3, 4, 5])


@pytest.mark.parametrize("ext,codec", [("mkv", "libx264"), ("mov", "libx264"), ("mp4", "libx264")])
def test_reader_reads_h264_containers(tmp_path, ext, codec):
    path = tmp_path / f"clip.{ext}"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=96x64:rate=25:duration=3.2", "-c:v", codec, "-pix_fmt", "yuv420p", str(path))
    samples = list(Cv2VideoReader(path).sample(1.0))
    np.testing.assert_allclose([s[1] for s in samples], [0, 1, 2, 3], atol=1e-3)
    assert samples[0][2].shape == (64, 96, 3)
