"""embed_videos: embed once, resume, replace, provenance; real VGG16 (random weights, tiny inputs) for shapes."""

import shutil
import warnings

import numpy as np
import pytest

from conftest import write_video
from featurestore import EmbeddingConfig, EmbedWarning, FeatureStore, embed_videos
from featurestore.errors import StoreMismatch, VideoUnreadable, WeightsUnavailable
from featurestore.pipeline import resolve_embedding_config
from featurestore.video.pyav import AvVideoReader

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

    monkeypatch.setattr(AvVideoReader, "sample", no_decoding)  # what the pipeline decodes with
    [report] = embed_videos([video_5s], tmp_path / "f.h5", config=TINY, make_embedder=stand_in)
    assert report.status == "stored" and report.n_embedded == 0
    assert len(stand_in.made) == 1  # no embedder (no model load) for the second run
    assert (tmp_path / "f.h5").read_bytes() == before


def test_embed_resumes_after_interruption(tmp_path, stand_in):
    video = write_video(tmp_path / "long.avi", 10, 200, fourcc="MJPG")  # 20 samples
    stand_in.fail_after_batches = 2
    with pytest.raises(KeyboardInterrupt):
        embed_videos([video], tmp_path / "f.h5", config=TINY, make_embedder=stand_in, batch_size=4)
    assert not (tmp_path / "f.h5").exists()  # no store until it holds a video; the checkpoint waits in f.h5.d/
    assert list((tmp_path / "f.h5.d").glob("*.part/chunk-*.npz"))
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


def test_embed_failed_first_run_leaves_no_store_and_retry_takes_other_settings(tmp_path, video_5s, stand_in):
    def offline(config):
        raise WeightsUnavailable("could not get the ImageNet weights for VGG16 (offline?)")

    with pytest.raises(WeightsUnavailable):
        embed_videos([video_5s], tmp_path / "f.h5", config=EmbeddingConfig(image_size_px=32), make_embedder=offline)
    assert not (tmp_path / "f.h5").exists() and not (tmp_path / "f.h5.d").exists()
    [report] = embed_videos([video_5s], tmp_path / "f.h5", config=TINY, make_embedder=stand_in)  # used to be refused
    assert report.status == "new" and FeatureStore(tmp_path / "f.h5").config == TINY.identity()


def test_embed_into_emptied_store_adopts_the_new_settings(tmp_path, video_5s, stand_in):
    other = EmbeddingConfig(weights="random", pooling="max", image_size_px=64)
    embed_videos([video_5s], tmp_path / "f.h5", config=other, make_embedder=stand_in)
    FeatureStore(tmp_path / "f.h5", mode="a", config=other.identity()).remove("five seconds.mp4")
    embed_videos([video_5s], tmp_path / "f.h5", config=TINY, make_embedder=stand_in)
    assert FeatureStore(tmp_path / "f.h5").config == TINY.identity()


def test_embed_leaves_no_lock_files(tmp_path, video_5s, stand_in):
    other = write_video(tmp_path / "x.avi", 10, 20, fourcc="MJPG")
    embed_videos([video_5s, other], tmp_path / "f.h5", config=TINY, make_embedder=stand_in)
    embed_videos([video_5s], tmp_path / "f.h5", config=TINY, make_embedder=stand_in, sample_fps=2.0, replace=True)
    left = sorted(p.name for p in (tmp_path / "f.h5.d").iterdir() if p.suffix != ".h5")
    assert left == [".lock"]  # one lock for the index, none per video id


def test_embed_byte_identical_copy_reuses_stored_features(tmp_path, video_5s, stand_in, monkeypatch):
    embed_videos([video_5s], tmp_path / "f.h5", config=TINY, make_embedder=stand_in)
    copy = tmp_path / "renamed copy.mp4"
    shutil.copyfile(video_5s, copy)

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded a byte-identical copy")

    monkeypatch.setattr(AvVideoReader, "sample", no_decoding)  # what the pipeline decodes with
    [report] = embed_videos([copy], tmp_path / "f.h5", config=TINY, make_embedder=stand_in)
    assert report.status == "copied" and report.n_embedded == 0 and report.n_samples == 6
    assert len(stand_in.made) == 1  # no model loaded for the copy
    fs = FeatureStore(tmp_path / "f.h5")
    original, copied = fs.read("five seconds.mp4"), fs.read("renamed copy.mp4")
    np.testing.assert_array_equal(copied.features, original.features)
    np.testing.assert_array_equal(copied.actual_s, original.actual_s)
    assert copied.info["source_path"] == str(copy.resolve()) and copied.info["copied_from"] == "five seconds.mp4"
    [again] = embed_videos([copy], tmp_path / "f.h5", config=TINY, make_embedder=stand_in)
    assert again.status == "stored"


def test_embed_again_replaces_damaged_stored_video_with_a_warning(tmp_path, video_5s, stand_in):
    embed_videos([video_5s], tmp_path / "f.h5", config=TINY, make_embedder=stand_in)
    good = FeatureStore(tmp_path / "f.h5").read("five seconds.mp4").features
    shard = FeatureStore(tmp_path / "f.h5").shard_path("five seconds.mp4")
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0xFF
    shard.write_bytes(bytes(data))
    with pytest.warns(EmbedWarning, match="stored features of 'five seconds.mp4' are damaged"):
        [report] = embed_videos([video_5s], tmp_path / "f.h5", config=TINY, make_embedder=stand_in)
    assert report.status == "replaced"
    np.testing.assert_array_equal(FeatureStore(tmp_path / "f.h5").read("five seconds.mp4").features, good)


def test_resolve_config_defaults_to_store_then_to_imagenet(tmp_path, video_5s, stand_in, monkeypatch):
    import featurestore.embedding.auto as auto

    monkeypatch.setattr(auto, "imagenet_weights_path", lambda: tmp_path / "cached.h5")  # --weights auto: VGG16's
    assert resolve_embedding_config(tmp_path / "none.h5") == EmbeddingConfig("imagenet", "avg", 224)
    embed_videos([video_5s], tmp_path / "f.h5", config=EmbeddingConfig("random", "max", 64), make_embedder=stand_in)
    assert resolve_embedding_config(tmp_path / "f.h5") == EmbeddingConfig("random", "max", 64)
    assert resolve_embedding_config(tmp_path / "f.h5", pooling="avg") == EmbeddingConfig("random", "avg", 64)


def test_weights_file_store_records_and_names_its_file(tmp_path, video_5s, stand_in):
    weights = tmp_path / "my vgg16.weights.h5"
    weights.write_bytes(b"stands in for a Keras weights file: only its sha256 matters here")
    config = EmbeddingConfig(weights=str(weights), image_size_px=32)
    embed_videos([video_5s], tmp_path / "f.h5", config=config, make_embedder=stand_in)
    assert FeatureStore(tmp_path / "f.h5").info("five seconds.mp4")["weights_source"] == str(weights.resolve())
    resolved = resolve_embedding_config(tmp_path / "f.h5")  # no --weights: the store's own file
    assert resolved.weights == str(weights.resolve()) and resolved.weights_id == config.weights_id
    with pytest.raises(StoreMismatch, match=r"holds features of vgg16 weights file .*my vgg16.weights.h5 \(sha256:"):
        embed_videos([video_5s], tmp_path / "f.h5", config=TINY, make_embedder=stand_in, names=["other"])
    weights.write_bytes(b"another file now")
    with pytest.raises(WeightsUnavailable, match="my vgg16.weights.h5: has changed since .*f.h5 was embedded with it"):
        resolve_embedding_config(tmp_path / "f.h5")
    weights.unlink()
    with pytest.raises(WeightsUnavailable, match="embedded with the weights file .*my vgg16.weights.h5 .* which is not there; pass it with --weights FILE"):
        resolve_embedding_config(tmp_path / "f.h5")


def test_sampling_above_the_frame_rate_says_each_frame_is_embedded_again(tmp_path):
    video = write_video(tmp_path / "slides.avi", 2, 6, fourcc="MJPG")  # 3 s at 2 frames/s
    with pytest.warns(EmbedWarning, match=r"slides.avi: sampling 8 times a second, above its frame rate \(2/s\), "
                                          r"embeds each frame about 4 times; --fps 2 or less stores every frame once"):
        [report] = embed_videos([video], tmp_path / "f.h5", config=TINY, sample_fps=8.0)
    assert report.n_samples == 24  # the grid the user asked for is kept
    with warnings.catch_warnings():
        warnings.simplefilter("error", EmbedWarning)
        embed_videos([video], tmp_path / "g.h5", config=TINY, sample_fps=2.0)
