"""Interlaced video (broadcast captures, DV): frames marked interlaced are deinterlaced as they are decoded
(featurestore.video.fields, FFmpeg's bwdif); progressive video and every video's clock are untouched."""

from __future__ import annotations

import av
import numpy as np
import pytest

from conftest import bframe_film, ffmpeg
from featurestore.video import fields, pyav
from featurestore.video.pyav import AvVideoReader

ENCODINGS = {  # what broadcast captures and tapes hold: H.264 and MPEG-2 in MPEG-TS (top field first), DV (bottom)
    "h264.ts": ["-vf", "interlace=scan=tff", "-c:v", "libx264", "-flags", "+ilme+ildct", "-x264opts", "tff=1",
                "-g", "12", "-bf", "2", "-pix_fmt", "yuv420p"],
    "mpeg2.ts": ["-vf", "interlace=scan=tff", "-c:v", "mpeg2video", "-q:v", "2", "-flags", "+ilme+ildct", "-top", "1",
                 "-pix_fmt", "yuv420p"],
    "dv.avi": ["-vf", "scale=720:576,interlace=scan=bff,setfield=bff", "-c:v", "dvvideo", "-pix_fmt", "yuv420p"],
}


def _sources(tmp_path, size="160x120", duration_s=1.2):
    """A 50 fps lossless pattern (smooth: drawn at 160 x 120, shown at 320 x 240) scrolling 5 px a field
    (`duration_s`) and its frames (the progressive truth)."""
    src = tmp_path / "src50p.mkv"
    ffmpeg("-f", "lavfi", "-i", f"testsrc2=size={size}:rate=50:duration={duration_s}", "-vf", "scale=320:240,scroll=horizontal=0.015",
           "-c:v", "ffv1", "-pix_fmt", "yuv444p", str(src))
    with av.open(str(src)) as c:
        truth = [f.to_ndarray(format="bgr24") for f in c.decode(video=0)]
    return src, truth


@pytest.fixture(scope="module")
def interlaced(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("interlaced")
    src, truth = _sources(tmp)
    videos = {}
    for name, args in ENCODINGS.items():
        videos[name] = tmp / name
        ffmpeg("-i", str(src), *args, str(videos[name]))
    return videos, truth


def _woven(monkeypatch):
    """Decode as before deinterlacing existed: every frame as the decoder gives it."""
    monkeypatch.setattr(pyav, "deinterlaced", lambda frames, done: frames)


def _combing(image) -> float:
    """Neighbouring rows' difference over that of rows two apart: about 0.5 for a smooth picture, above 1 where the
    rows alternate between two instants (a woven frame of something that moves)."""
    grey = image.astype(np.float32).mean(axis=2)
    return float(np.abs(grey[1:] - grey[:-1]).mean() / np.abs(grey[2:] - grey[:-2]).mean())


@pytest.mark.parametrize("name", list(ENCODINGS))
def test_interlaced_frames_are_deinterlaced_combed_no_more_than_the_progressive_source(interlaced, name, monkeypatch):
    videos, truth = interlaced
    with av.open(str(videos[name])) as c:
        assert next(c.decode(video=0)).interlaced_frame  # what FFmpeg says about the footage
    reader = AvVideoReader(videos[name])
    samples = list(reader.sample(25.0))
    assert reader.decoder.endswith(" + bwdif") and reader.n_interlaced == len(samples) == 30
    assert not reader.deinterlace_error
    _woven(monkeypatch)
    woven = list(AvVideoReader(videos[name]).sample(25.0))
    progressive = np.mean([_combing(frame) for frame in truth])  # 0.56; woven 2.9 (H.264, MPEG-2), 4.7 (DV)
    assert np.mean([_combing(s.frame) for s in samples]) < 1.1 * progressive < 0.5 * np.mean([_combing(s.frame) for s in woven])


@pytest.mark.parametrize("mode", ["exact", "fast"])
def test_times_and_counts_are_those_of_the_decoded_frames(interlaced, mode, monkeypatch):
    video = interlaced[0]["h264.ts"]
    ours = [(s.index, s.requested_s, s.actual_s, s.n_frames) for s in AvVideoReader(video, mode).sample(7.0)]
    part = [(s.index, s.requested_s, s.actual_s, s.n_frames) for s in AvVideoReader(video, mode).sample(7.0, 3, 6)]
    _woven(monkeypatch)
    assert ours == [(s.index, s.requested_s, s.actual_s, s.n_frames) for s in AvVideoReader(video, mode).sample(7.0)]
    assert part == ours[3:6]  # a range decoded on its own: the same samples


@pytest.mark.parametrize("name", ["h264.ts", "dv.avi"])
def test_a_range_decoded_on_its_own_gives_the_frames_of_a_whole_run(tmp_path, name):
    """The deinterlacer reads the frame before as well: a range whose first frame is a keyframe (every DV frame)
    is decoded from a frame earlier, so its samples are bit for bit the whole run's, as for progressive video."""
    src, _ = _sources(tmp_path, duration_s=4.0)
    video = tmp_path / name
    ffmpeg("-i", str(src), *ENCODINGS[name], str(video))
    whole = list(AvVideoReader(video).sample(5.0))
    cuts = [0, 3, 6, 12, 15, 19, 40]  # 12 and 6: keyframes of the H.264 (every 12 frames at 25 fps)
    for start, stop in zip(cuts, cuts[1:]):
        part = list(AvVideoReader(video).sample(5.0, start, stop))
        assert [(s.index, s.actual_s) for s in part] == [(s.index, s.actual_s) for s in whole[start:stop]]
        for a, b in zip(part, whole[start:stop]):
            np.testing.assert_array_equal(a.frame, b.frame)


def test_frames_at_gives_the_frames_sampling_embedded(interlaced):
    video = interlaced[0]["mpeg2.ts"]
    samples = list(AvVideoReader(video).sample(5.0))
    found = AvVideoReader(video).frames_at([s.actual_s for s in samples])
    assert all(np.array_equal(s.frame, f) for s, f in zip(samples, found))


def test_progressive_video_is_decoded_bit_identically(tmp_path, monkeypatch):
    video = bframe_film(tmp_path / "film.mp4")
    built = []
    monkeypatch.setattr(fields, "_graph", lambda frame: built.append(frame) or pytest.fail("a graph was built"))
    for mode in ("exact", "fast"):
        reader = AvVideoReader(video, mode)
        ours = [(s.index, s.actual_s, s.n_frames, s.frame.tobytes()) for s in reader.sample(3.0)]
        assert reader.decoder == {"exact": "h264", "fast": "h264 (skip nonref)"}[mode] and reader.n_interlaced == 0
        with monkeypatch.context() as m:
            _woven(m)
            assert ours == [(s.index, s.actual_s, s.n_frames, s.frame.tobytes()) for s in AvVideoReader(video, mode).sample(3.0)]


def test_a_checkpoint_of_decoding_before_deinterlacing_is_not_resumed(tmp_path):
    from featurestore.embedding.config import EmbeddingConfig
    from featurestore.runners.work import checkpoint_for
    from featurestore.store.checkpoint import Checkpoint
    from featurestore.store.store import FeatureStore

    config = EmbeddingConfig(weights="random", image_size_px=32)
    store = FeatureStore(tmp_path / "s.h5", mode="a", config=config.identity())
    now = checkpoint_for(store, "v", "fp", config, 1.0, "exact")
    assert now.meta["fields"] == "bwdif"
    before = Checkpoint(now.path, {k: v for k, v in now.meta.items() if k != "fields"})  # a run before deinterlacing
    before.append(np.zeros(3), np.zeros(3), np.zeros((3, 4), np.float32))
    assert before.n_samples() == 3 and checkpoint_for(store, "v", "fp", config, 1.0, "exact").n_samples() == 0


def test_the_store_says_per_video_what_was_deinterlaced(interlaced, tmp_path, stand_in, video_5s):
    from featurestore import EmbeddingConfig, FeatureStore, embed_videos

    config = EmbeddingConfig(weights="random", image_size_px=32)
    embed_videos([interlaced[0]["mpeg2.ts"], video_5s], tmp_path / "f.h5", config=config, make_embedder=stand_in,
                 workers=0)
    store = FeatureStore(tmp_path / "f.h5")
    assert store.info("mpeg2.ts")["decoder"] == store.videos()["decoder"]["mpeg2.ts"] == "mpeg2video + bwdif"
    assert "bwdif" not in store.info(video_5s.name)["decoder"]


def test_interlaced_frames_ffmpeg_cannot_filter_are_stored_as_decoded_and_said_so(interlaced, tmp_path, stand_in,
                                                                                  monkeypatch):
    from featurestore import EmbeddingConfig, FeatureStore, embed_videos
    from featurestore.errors import EmbedWarning

    def refuse(frame):
        raise ValueError("no filter for this pixel format")

    monkeypatch.setattr(fields, "_graph", refuse)
    config = EmbeddingConfig(weights="random", image_size_px=32)
    with pytest.warns(EmbedWarning, match=r"mpeg2\.ts: interlaced frames could not be deinterlaced \(bwdif could not "
                                          r"filter .*no filter for this pixel format\); stored as decoded"):
        embed_videos([interlaced[0]["mpeg2.ts"]], tmp_path / "f.h5", config=config, make_embedder=stand_in, workers=0)
    assert FeatureStore(tmp_path / "f.h5").info("mpeg2.ts")["decoder"] == "mpeg2video"
