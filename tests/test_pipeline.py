"""embed_videos: embed once, resume, replace, provenance; real VGG16 (random weights, tiny inputs) for shapes."""

import numpy as np
import pytest

from conftest import write_video
from featurestore import EmbeddingConfig, FeatureStore, embed_videos
from featurestore.errors import StoreMismatch, VideoUnreadable
from featurestore.video import Cv2VideoReader

TINY = EmbeddingConfig(weights="random", pooling="avg", image_size_px=32)


def test_embed_stores_samples_with_provenance(tmp_path, video_5s, stand_in):
    [report] = embed_videos([video_5s], tmp_path / "f.h5", config=TINY, make_embedder=stand_in, batch_size=4)
    assert report.status == "new" and report.n_samples == 6 and report.n_embedded == 6
    v = FeatureStore(tmp_path / "f.h5").read("five seconds.mp4")
    np.testing.assert_allclose(v.requested_s, np.arange(6.0))
    np.testing.assert_allclose(v.actual_s, np.arange(6.0), atol=1e-3)
    # stand-in feature = mean grey of the 8x8 thumbnail: frame 10*k has level 60*k % 240
    np.testing.assert_allclose(v.features[:, 0], [0, 60, 120, 180, 0, 60], atol=4)
    info = v.info
    assert info["fps"] == 10 and info["frame_count"] == 55 and info["width"] == 64 and info["height"] == 48
    assert info["duration_s"] == pytest.approx(5.5) and info["sample_fps"] == 1.0
    assert info["fingerprint"].startswith("sha256") and info["size_bytes"] == video_5s.stat().st_size
    assert info["is_complete"] is True and "opencv-python-headless" in info["versions"]


def test_embed_second_run_does_no_decoding_and_no_inference(tmp_path, video_5s, stand_in, monkeypatch):
    embed_videos([video_5s], tmp_path / "f.h5", config=TINY, make_embedder=stand_in)
    before = (tmp_path / "f.h5").read_bytes()

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded a stored video")

    monkeypatch.setattr(Cv2VideoReader, "sample", no_decoding)
    [report] = embed_videos([video_5s], tmp_path / "f.h5", config=TINY, make_embedder=stand_in)
    assert report.status == "stored" and report.n_embedded == 0
    assert len(stand_in.made) == 1  # no embedder (no model load) for the second run
    assert (tmp_path / "f.h5").read_bytes() == before


def test_embed_resumes_after_interruption(tmp_path, stand_in):
    video = write_video(tmp_path / "long.avi", 10, 200, fourcc="MJPG")  # 20 samples
    stand_in.fail_after_batches = 2
    with pytest.raises(KeyboardInterrupt):
        embed_videos([video], tmp_path / "f.h5", config=TINY, make_embedder=stand_in, batch_size=4)
    assert "long.avi" not in FeatureStore(tmp_path / "f.h5")
    stand_in.fail_after_batches = None
    [report] = embed_videos([video], tmp_path / "f.h5", config=TINY, make_embedder=stand_in, batch_size=4)
    assert report.status == "resumed" and report.n_embedded == 12 and report.n_samples == 20
    resumed = FeatureStore(tmp_path / "f.h5").read("long.avi")
    embed_videos([video], tmp_path / "fresh.h5", config=TINY, make_embedder=stand_in, batch_size=4)
    fresh = FeatureStore(tmp_path / "fresh.h5").read("long.avi")
    np.testing.assert_array_equal(resumed.features, fresh.features)
    np.testing.assert_array_equal(resumed.actual_s, fresh.actual_s)
    assert not list((tmp_path / "f.h5.d").glob("*.part"))


def test_embed_same_name_other_content_needs_replace(tmp_path, stand_in):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = write_video(tmp_path / "a" / "ep.avi", 10, 30, fourcc="MJPG")
    b = write_video(tmp_path / "b" / "ep.avi", 10, 50, fourcc="MJPG")
    other = write_video(tmp_path / "other.avi", 10, 20, fourcc="MJPG")
    embed_videos([a, other], tmp_path / "f.h5", config=TINY, make_embedder=stand_in)
    other_before = FeatureStore(tmp_path / "f.h5").read("other.avi")
    with pytest.raises(StoreMismatch, match="pass --replace"):
        embed_videos([b], tmp_path / "f.h5", config=TINY, make_embedder=stand_in)
    assert FeatureStore(tmp_path / "f.h5").info("ep.avi")["n_samples"] == 3
    [report] = embed_videos([b], tmp_path / "f.h5", config=TINY, make_embedder=stand_in, replace=True)
    assert report.status == "replaced"
    fs = FeatureStore(tmp_path / "f.h5")
    assert fs.info("ep.avi")["n_samples"] == 5
    np.testing.assert_array_equal(fs.read("other.avi").features, other_before.features)


def test_embed_other_sample_rate_needs_replace(tmp_path, video_5s, stand_in):
    embed_videos([video_5s], tmp_path / "f.h5", config=TINY, make_embedder=stand_in)
    with pytest.raises(StoreMismatch, match="1.0 samples/s, this run asks for 2.0"):
        embed_videos([video_5s], tmp_path / "f.h5", config=TINY, make_embedder=stand_in, sample_fps=2.0)


def test_embed_names_with_slashes_and_dots_are_safe(tmp_path, video_5s, stand_in):
    names = ["../../etc/passwd", "season 1/ep ü"]
    other = write_video(tmp_path / "x.avi", 10, 20, fourcc="MJPG")
    embed_videos([video_5s, other], tmp_path / "f.h5", config=TINY, make_embedder=stand_in, names=names)
    fs = FeatureStore(tmp_path / "f.h5")
    assert fs.video_ids() == sorted(names)
    assert {p.parent for p in tmp_path.rglob("*.h5")} <= {tmp_path, tmp_path / "f.h5.d"}


def test_embed_checks_every_video_before_any_work(tmp_path, video_5s, stand_in):
    with pytest.raises(VideoUnreadable, match="missing.mp4: no such file"):
        embed_videos([video_5s, tmp_path / "missing.mp4"], tmp_path / "f.h5", config=TINY, make_embedder=stand_in)
    assert stand_in.made == []


def test_embed_two_files_same_name_refused(tmp_path, stand_in):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = write_video(tmp_path / "a" / "ep.avi", 10, 20, fourcc="MJPG")
    b = write_video(tmp_path / "b" / "ep.avi", 10, 30, fourcc="MJPG")
    with pytest.raises(StoreMismatch, match="distinct --name"):
        embed_videos([a, b], tmp_path / "f.h5", config=TINY, make_embedder=stand_in)


def test_embed_short_video_gives_one_sample_at_zero(tmp_path, stand_in):
    video = write_video(tmp_path / "blink.avi", 10, 4, fourcc="MJPG")  # 0.4 s
    [report] = embed_videos([video], tmp_path / "f.h5", config=TINY, make_embedder=stand_in)
    t, X = FeatureStore(tmp_path / "f.h5").load("blink.avi")
    np.testing.assert_allclose(t, [0.0])
    assert report.duration_s == pytest.approx(0.4)


@pytest.mark.parametrize("pooling,size,n_features", [("avg", 32, 512), ("max", 32, 512), ("flatten", 64, 2048)])
def test_embed_real_vgg16_shapes_per_pooling(tmp_path, video_5s, pooling, size, n_features):
    config = EmbeddingConfig(weights="random", pooling=pooling, image_size_px=size)
    embed_videos([video_5s], tmp_path / "f.h5", config=config, batch_size=4)
    fs = FeatureStore(tmp_path / "f.h5")
    t, X = fs.load("five seconds.mp4")
    assert X.shape == (6, n_features) and X.dtype == np.float32 and np.isfinite(X).all()
    assert fs.config["n_features"] == n_features and fs.config["pooling"] == pooling
    assert np.ptp(X, axis=0).max() > 0  # frames of different grey give different features


def test_embed_random_weights_are_reproducible(tmp_path, video_5s):
    embed_videos([video_5s], tmp_path / "a.h5", config=TINY)
    embed_videos([video_5s], tmp_path / "b.h5", config=TINY)
    np.testing.assert_array_equal(FeatureStore(tmp_path / "a.h5").load("five seconds.mp4")[1],
                                  FeatureStore(tmp_path / "b.h5").load("five seconds.mp4")[1])
