"""PyAV reader: exact mode equals OpenCV's frames bit for bit; time ranges equal a sequential run; fast mode
decodes fewer frames and says which one it used; NVDEC falls back to software."""

import numpy as np
import pytest

from conftest import bframe_film, write_video
from featurestore.video.pyav import AvVideoReader, probe
from featurestore.video.clock import interval_of_time, n_samples_until
from featurestore.errors import VideoUnreadable
from featurestore.video.opencv import Cv2VideoReader


@pytest.fixture(scope="module")
def bframes(tmp_path_factory):
    """12 s of testsrc at 25 fps, H.264 with up to 3 B-frames and a keyframe every 15 frames (0.6 s)."""
    return bframe_film(tmp_path_factory.mktemp("h264") / "bframes.mp4")


def same_samples(a, b) -> bool:
    return len(a) == len(b) and all(
        x.index == y.index and x.requested_s == y.requested_s and x.actual_s == y.actual_s and x.n_frames == y.n_frames
        and np.array_equal(x.frame, y.frame) for x, y in zip(a, b))


@pytest.mark.parametrize("kind", ["mp4v", "mjpg", "h264"])
def test_av_exact_equals_opencv_bit_for_bit(tmp_path, bframes, kind):
    path = {"mp4v": lambda: write_video(tmp_path / "v.mp4", 10, 47),
            "mjpg": lambda: write_video(tmp_path / "v.avi", 29.97, 100, fourcc="MJPG"),
            "h264": lambda: bframes}[kind]()
    for fps in (1.0, 3.0):
        cv = list(Cv2VideoReader(path).sample(fps))
        reader = AvVideoReader(path)
        av = list(reader.sample(fps))
        assert [(s.requested_s, s.actual_s) for s in av] == [(r, a) for r, a, _ in cv]
        assert all(np.array_equal(s.frame, f) for s, (_, _, f) in zip(av, cv))
        opencv = Cv2VideoReader(path)
        list(opencv.sample(fps))
        assert reader.frames_decoded == opencv.frames_decoded == sum(s.n_frames for s in av)
        assert reader.end_s == pytest.approx(opencv.decoded_duration_s)
    info, cv_info = probe(path), Cv2VideoReader(path).info
    assert (info.fps, info.frame_count, info.width, info.height) == (cv_info.fps, cv_info.frame_count, cv_info.width, cv_info.height)


@pytest.mark.parametrize("decode", ["exact", "fast"])
def test_av_ranges_from_keyframes_equal_one_sequential_run(bframes, decode):
    whole = list(AvVideoReader(bframes, decode=decode).sample(2.0))
    assert len(whole) == 24
    cuts = [0, 1, 5, 6, 13, 23, 40]  # ranges starting mid-GOP, a range of one sample, a range past the end
    pieces = []
    for start, stop in zip(cuts, cuts[1:]):
        reader = AvVideoReader(bframes, decode=decode)
        pieces += list(reader.sample(2.0, start, stop))
        assert reader.reached_end == (stop >= 24)
    assert same_samples(pieces, whole)


@pytest.fixture(scope="module")
def pyramid(tmp_path_factory):
    """6 s of testsrc2 as x264 'medium' writes it by default: B-frames that other frames refer to (a B-pyramid)."""
    from conftest import ffmpeg

    path = tmp_path_factory.mktemp("pyramid") / "pyramid.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=96x64:rate=25:duration=6", "-c:v", "libx264", "-preset", "medium",
           "-bf", "3", "-g", "15", "-pix_fmt", "yuv420p", str(path))
    return path


@pytest.mark.parametrize("film", ["bframes", "pyramid"])
def test_av_fast_skips_b_frames_and_tells_the_time_of_the_frame_used(request, film):
    """Every frame fast mode decodes is exactly the frame exact mode decodes at that time: skipping the B-frames
    of a pyramid that others refer to (FFmpeg's BIDIR, fast mode's first rule) damaged the frames after them."""
    path = request.getfixturevalue(film)
    exact, fast = AvVideoReader(path), AvVideoReader(path, decode="fast")
    by_time = {s.actual_s: s.frame for s in exact.sample(25.0)}  # every frame
    samples = list(fast.sample(2.0))
    assert len(samples) == {"bframes": 24, "pyramid": 12}[film]
    assert fast.frames_decoded < 0.75 * exact.frames_decoded
    decoded = np.array(sorted({s.actual_s for s in fast.sample(25.0)}))  # the frames fast mode decodes
    for s in samples:
        nearest = decoded[np.argmin(np.abs(decoded - s.requested_s))]
        assert abs(s.actual_s - s.requested_s) == pytest.approx(abs(nearest - s.requested_s))
        assert abs(s.actual_s - s.requested_s) <= 2 / 25 + 1e-6  # at most 3 B-frames in a row: 2 frames off
        np.testing.assert_array_equal(s.frame, by_time[s.actual_s])  # the decoded frame shown at actual_s
    assert fast.decoder == "h264 (skip nonref)"


def test_av_hw_without_nvdec_falls_back_to_software(bframes):
    reader = AvVideoReader(bframes, decode="hw")
    samples = list(reader.sample(2.0))
    try:
        import av.codec.hwaccel  # noqa: F401
    except ImportError:
        pytest.skip("this PyAV has no hwaccel")
    if not reader.hw_error:
        pytest.skip("NVDEC works here: nothing falls back")
    assert same_samples(samples, list(AvVideoReader(bframes).sample(2.0)))


def test_av_truncated_file_stops_where_decoding_stops(tmp_path):
    good = write_video(tmp_path / "whole.avi", 10, 100, fourcc="MJPG")
    cut = tmp_path / "cut.avi"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size * 4 // 10])
    reader = AvVideoReader(cut)
    samples = list(reader.sample(1.0))
    assert 2 <= len(samples) <= 4 and reader.reached_end and reader.end_s < 5


def test_av_refuses_what_is_not_a_video(tmp_path):
    text = tmp_path / "notes.mp4"
    text.write_text("not a video\n" * 100)
    with pytest.raises(VideoUnreadable, match="notes.mp4: not a readable video"):
        AvVideoReader(text)


def test_sample_intervals_are_consistent_with_the_grid():
    assert [interval_of_time(t, 1.0) for t in (-0.5, 0.0, 0.99, 1.0, 2.5)] == [0, 0, 0, 1, 2]
    assert n_samples_until(5.5, 1.0) == 6 and n_samples_until(5.0, 1.0) == 5 and n_samples_until(0.4, 1.0) == 1
    assert n_samples_until(1.0, 29.97) == 30


@pytest.fixture
def phone_portrait(tmp_path):
    """A phone's portrait clip: 64 x 48 frames stored landscape (left third white, the rest dark, so every turn
    differs) with rotate=90 in the display matrix, as phones write it; players show it 48 x 64."""
    import cv2

    from conftest import ffmpeg

    src = tmp_path / "landscape.mp4"
    writer = cv2.VideoWriter(str(src), cv2.VideoWriter_fourcc(*"mp4v"), 10, (64, 48))
    for i in range(20):
        frame = np.full((48, 64, 3), 30, np.uint8)
        frame[:, :21] = 250
        frame[:8, :] = 120 + 5 * i  # a band at the stored frame's top
        writer.write(frame)
    writer.release()
    path = tmp_path / "portrait.mov"
    ffmpeg("-i", str(src), "-c", "copy", "-metadata:s:v", "rotate=90", str(path))
    return path


def test_av_turns_frames_as_players_show_them(phone_portrait):
    """A video with a display rotation (every phone's portrait video) is read upright: sideways, faces are not
    found or get descriptors of nobody (a rotated clip's faces of one actor were 0.66-0.82 apart, dlib's same-person
    rule is 0.6). The frames, size and aspect are OpenCV's, which turns them too."""
    from featurestore.video.aspect import display_aspect

    info, cv_info = probe(phone_portrait), Cv2VideoReader(phone_portrait).info
    assert (info.width, info.height) == (cv_info.width, cv_info.height) == (48, 64)
    assert display_aspect(phone_portrait) == pytest.approx(48 / 64)
    av = list(AvVideoReader(phone_portrait).sample(2.0))
    cv = list(Cv2VideoReader(phone_portrait).sample(2.0))
    assert len(av) == len(cv) == 4
    assert all(s.frame.shape == (64, 48, 3) and s.frame.flags["C_CONTIGUOUS"] for s in av)
    assert all(np.array_equal(s.frame, f) for s, (_, _, f) in zip(av, cv))
    thumbs = AvVideoReader(phone_portrait).frames_at([0.0, 1.0])
    assert all(np.array_equal(t, s.frame) for t, s in zip(thumbs, av[::2]))


def test_a_held_last_frame_ends_where_the_container_says(tmp_path):
    """A variable-rate video of slides (frames at 0, 3, 7 and 10 s, the last shown 0.04 s): its average rate is
    0.4 fps, and one nominal frame (2.5 s) after the last frame made two samples past its end (10.04 s), counted as
    screen time of whoever was on the last slide."""
    import cv2

    from conftest import ffmpeg

    lines = []
    for i, hold_s in enumerate((3.0, 4.0, 3.0)):
        cv2.imwrite(str(tmp_path / f"s{i}.png"), np.full((48, 64, 3), 60 * (i + 1), np.uint8))
        lines += [f"file s{i}.png", f"duration {hold_s}"]
    (tmp_path / "slides.txt").write_text("\n".join(lines + ["file s2.png", ""]))
    path = tmp_path / "slides.mp4"
    ffmpeg("-f", "concat", "-safe", "0", "-i", str(tmp_path / "slides.txt"), "-fps_mode", "vfr", "-c:v", "libx264",
           "-pix_fmt", "yuv420p", str(path))
    reader = AvVideoReader(path)
    samples = list(reader.sample(1.0))
    assert [s.actual_s for s in samples] == [0, 0, 0, 3, 3, 3, 3, 7, 7, 7, 10]
    assert reader.end_s == pytest.approx(10.04)
