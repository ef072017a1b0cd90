"""Video files as people have them: a picture that starts after its sound (broadcast recordings, captures),
streams that are not the picture, a truncated recording decoded in time ranges, animated GIFs."""

import warnings

import numpy as np
import pytest

from conftest import ffmpeg
from featurestore import EmbeddingConfig, EmbedWarning, embed_videos
from featurestore.errors import VideoUnreadable
from featurestore.video.pyav import AvVideoReader, probe

TINY = EmbeddingConfig(weights="random", pooling="avg", image_size_px=32)


def late_picture(path, audio="aac", extra=()):
    """6 s of sound; the picture (4 s of 64x48 grey, 10 fps, no B-frames, brighter every second from 0.5 s) starts at 2 s."""
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=6", "-itsoffset", "2",
           "-f", "lavfi", "-i", "color=c=black:s=64x48:r=10:d=4,geq=lum='20*floor((N+5)/10)+40':cb=128:cr=128",
           "-map", "1:v", "-map", "0:a", "-c:v", "libx264", "-bf", "0", "-g", "10", "-c:a", audio, *extra, str(path))
    return path


@pytest.mark.parametrize("name,audio,extra", [("late.mkv", "pcm_s16le", ()), ("late.ts", "aac", ()),
                                              ("late.mp4", "aac", ("-fps_mode", "passthrough"))])
def test_a_picture_that_starts_after_its_sound_is_timed_as_players_show_it(tmp_path, name, audio, extra):
    path = late_picture(tmp_path / name, audio, extra)
    reader = AvVideoReader(path)
    samples = list(reader.sample(1.0))
    # players (ffprobe's times less the file's start time, VLC, mpv) show the picture from 2 s to 6 s
    # (give or take the sound encoder's priming: to 6.023 s in a TS)
    assert reader.end_s == pytest.approx(6.0, abs=0.03)
    assert [s.requested_s for s in samples] == list(range(7 if reader.end_s > 6 else 6))
    np.testing.assert_allclose([s.actual_s for s in samples[:6]], [0, 1, 2, 3, 4, 5], atol=0.1)
    levels = [s.frame.mean() for s in samples[:6]]
    assert levels[0] == levels[1] == 0 < levels[2] < levels[3] < levels[4] < levels[5]  # black before the picture
    assert [s.n_frames for s in samples[:3]] == [0, 0, 10]
    assert probe(path).duration_estimate_s == pytest.approx(6.0, abs=0.05)
    shown = dict(AvVideoReader(path).iter_frames_at([0.5, 1.0, 3.4]))  # thumbnails show what was embedded
    assert np.array_equal(shown[3.4], samples[3].frame) and np.array_equal(shown[1.0], samples[1].frame)
    assert shown[0.5].shape == samples[3].frame.shape and shown[0.5].max() == 0


def test_a_late_picture_is_stored_whole_without_a_truncation_warning(tmp_path, stand_in):
    path = late_picture(tmp_path / "late.mkv", "pcm_s16le")
    with warnings.catch_warnings():
        warnings.simplefilter("error", EmbedWarning)  # it said "decoding stopped at 4.0 s of 6.0 s (truncated?)"
        [report] = embed_videos([path], tmp_path / "f.h5", config=TINY, make_embedder=stand_in, workers=0)
    assert report.n_samples == 6 and report.duration_s == pytest.approx(6.0, abs=0.05)
    from featurestore import FeatureStore

    info = FeatureStore(tmp_path / "f.h5").info("late.mkv")  # which clock: stores made before kept the picture's
    assert info["clock"] == "file" and info["picture_start_s"] == pytest.approx(2.0, abs=0.05)


def test_cuts_of_a_late_picture_are_on_the_players_clock(tmp_path):
    pytest.importorskip("scenedetect")
    from featurestore.video.shots import detect_cuts

    path = tmp_path / "cut.mkv"  # the picture from 2 s: red for 2 s, then blue (a cut at 4 s on the players' clock)
    ffmpeg("-f", "lavfi", "-i", "sine=duration=6", "-itsoffset", "2", "-f", "lavfi", "-i",
           "color=c=red:s=64x48:r=10:d=2[a];color=c=blue:s=64x48:r=10:d=2[b];[a][b]concat", "-map", "1:v", "-map", "0:a",
           "-c:v", "libx264", "-bf", "0", "-c:a", "pcm_s16le", str(path))
    np.testing.assert_allclose(detect_cuts(path), [4.0], atol=0.06)


def test_a_sound_file_with_a_cover_picture_is_not_a_video(tmp_path, stand_in):
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x48", "-frames:v", "1", str(tmp_path / "cover.jpg"))
    ffmpeg("-f", "lavfi", "-i", "sine=duration=3", "-i", str(tmp_path / "cover.jpg"), "-map", "0", "-map", "1",
           "-c:a", "aac", "-c:v", "copy", "-disposition:v", "attached_pic", str(tmp_path / "song.m4a"))
    with pytest.raises(VideoUnreadable, match=r"song.m4a: has no video stream \(only a cover picture"):
        embed_videos([tmp_path / "song.m4a"], tmp_path / "f.h5", config=TINY, make_embedder=stand_in, workers=0)
    assert not (tmp_path / "f.h5").exists()  # it said "no frame could be decoded" after a progress bar


def test_a_cut_off_recording_decodes_alike_in_time_ranges(tmp_path):
    """A broadcast recording cut off after its last keyframe: a range seeking there finds packets and no frame."""
    whole_file = tmp_path / "whole.ts"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x48:rate=25:duration=8", "-c:v", "libx264", "-g", "1000", str(whole_file))
    data = whole_file.read_bytes()
    path = tmp_path / "cut off.ts"
    path.write_bytes(data[: len(data) * 7 // 10])
    whole = list(AvVideoReader(path).sample(2.0))
    assert len(whole) >= 8
    pieces = []
    for start, stop in [(0, 3), (3, 7), (7, 1000)]:
        reader = AvVideoReader(path)
        pieces += list(reader.sample(2.0, start, stop))  # the ranges after 0 yielded nothing: 3 samples in all
    assert [(s.index, s.actual_s, s.n_frames) for s in pieces] == [(s.index, s.actual_s, s.n_frames) for s in whole]
    assert all(np.array_equal(a.frame, b.frame) for a, b in zip(pieces, whole))
    times = [whole[-1].requested_s, whole[4].requested_s]
    assert all(np.array_equal(f, s.frame) for f, s in zip(AvVideoReader(path).frames_at(times), [whole[-1], whole[4]]))


def test_an_animated_gif_is_a_video_and_a_still_one_is_not(tmp_path, stand_in):
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x48:rate=10:duration=3", str(tmp_path / "clip.gif"))
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x48", "-frames:v", "1", str(tmp_path / "still.gif"))
    [report] = embed_videos([tmp_path / "clip.gif"], tmp_path / "f.h5", config=TINY, make_embedder=stand_in, workers=0)
    assert (report.n_samples, report.duration_s) == (3, pytest.approx(3.0))  # it was refused as "a GIF image"
    with pytest.raises(VideoUnreadable, match=r"still.gif: is a GIF image \(one frame\), not a video"):
        probe(tmp_path / "still.gif")


class _ShapeAnalyser:
    """Records the frames it is given; finds no face."""

    embedding_dim = 8
    seen: list = []

    def __init__(self, config):
        pass

    def analyse(self, frame_bgr):
        from featurestore.faces.analyser import FrameFaces

        _ShapeAnalyser.seen.append(frame_bgr)
        return FrameFaces.empty(self.embedding_dim)


def test_faces_are_looked_for_in_anamorphic_frames_as_players_show_them(tmp_path, stand_in):
    """A 64x48 picture with a 16x16 white square, stored 48x48 with 4:3 pixels (an anamorphic DVD's squeeze)."""
    from featurestore.faces.config import FaceConfig

    path = tmp_path / "anamorphic.mp4"
    ffmpeg("-f", "lavfi", "-i", "color=c=black:s=64x48:r=10:d=2,drawbox=x=24:y=16:w=16:h=16:color=white:t=fill",
           "-vf", "scale=48:48,setsar=4/3", "-c:v", "libx264", str(path))
    _ShapeAnalyser.seen = []
    embed_videos([path], tmp_path / "f.h5", config=TINY, make_embedder=stand_in, workers=0, faces=FaceConfig(),
                 make_face_analyser=_ShapeAnalyser)
    assert {f.shape for f in _ShapeAnalyser.seen} == {(48, 64, 3)}  # it was given the squeezed 48x48 frames
    ys, xs = np.nonzero(_ShapeAnalyser.seen[0].max(axis=2) > 128)
    assert (xs.max() - xs.min() + 1) / (ys.max() - ys.min() + 1) == pytest.approx(1.0, abs=0.1)  # the face's shape
    assert probe(path).pixel_aspect == pytest.approx(4 / 3)


@pytest.mark.parametrize("faststart", [False, True])
def test_a_cut_off_mp4_says_what_it_lacks(tmp_path, faststart):
    """A camera's recording stopped before it was finished: its index (moov) is written last, so it is missing."""
    whole = tmp_path / "whole.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x48:rate=25:duration=4", "-c:v", "libx264",
           *(["-movflags", "+faststart"] if faststart else []), str(whole))
    data = whole.read_bytes()
    path = tmp_path / "cut off.mp4"
    path.write_bytes(data[: len(data) * 7 // 10])
    if faststart:  # the index first: what remains is readable, up to where it stops
        assert 2 <= len(list(AvVideoReader(path).sample(1.0))) <= 3
        return
    with pytest.raises(VideoUnreadable, match=r"cut off.mp4: not a readable video: an MP4/MOV file without its index"):
        probe(path)  # it said only "(FFmpeg could not open it: Invalid data found when processing input)"


def test_ranges_of_a_late_picture_equal_one_sequential_run(tmp_path):
    path = late_picture(tmp_path / "late.ts")
    whole = list(AvVideoReader(path).sample(2.0))
    pieces = []
    for start, stop in [(0, 1), (1, 3), (3, 5), (5, 9), (9, 100)]:  # ranges before, across and after its start
        pieces += list(AvVideoReader(path).sample(2.0, start, stop))
    assert [(s.index, s.actual_s, s.n_frames) for s in pieces] == [(s.index, s.actual_s, s.n_frames) for s in whole]
    assert all(np.array_equal(a.frame, b.frame) for a, b in zip(pieces, whole))


def test_a_folder_of_tape_captures_and_tv_recordings_is_a_folder_of_videos(tmp_path):
    from featurestore.video.paths import expand_folders

    for name in ("reel 1.dv", "reel 2.m2t", "news.trp", "camcorder.MOD", "notes.txt"):
        (tmp_path / name).write_bytes(b"\x00" * 10)
    # it was "is a directory with no video files in it"
    assert [p.name for p in expand_folders([tmp_path])] == ["camcorder.MOD", "news.trp", "reel 1.dv", "reel 2.m2t"]


def test_a_picture_a_moment_after_the_start_is_not_black(tmp_path):
    """A clip cut with -c copy into mkv: its picture starts at 0.096 s (after its sound), within the first second."""
    src = tmp_path / "src.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x48:rate=25:duration=6", "-f", "lavfi", "-i", "sine=duration=6",
           "-c:v", "libx264", "-g", "50", "-c:a", "aac", str(src))
    path = tmp_path / "cut.mkv"
    ffmpeg("-ss", "3.3", "-i", str(src), "-c", "copy", str(path))
    samples = list(AvVideoReader(path).sample(1.0))
    assert samples[0].actual_s > 0.05 and samples[0].frame.max() > 0 and samples[0].n_frames > 0
    assert samples[1].frame.max() > 0
