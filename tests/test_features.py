"""Per-video stages: normalisation and temporal context (values, time order, video edges), chosen by CV, applied by score."""

import numpy as np
import pytest

from classifiers.compare import compare_models
from sklearn.base import clone

from classifiers.chain.stages import TemporalContext, VideoNormalizer, normalize_video, video_features
from classifiers.chain.persist import load_model
from classifiers.score import score_videos
from conftest import write_labels, write_video
from featurestore import EmbeddingConfig, embed_videos

TINY = EmbeddingConfig(weights="random", image_size_px=32)
OFFSET = {"neither": 0, "jerry": 30, "tom": 60}


def test_normalize_video_centers_each_feature():
    X = np.array([[1.0, 10.0], [3.0, 14.0]])
    np.testing.assert_allclose(normalize_video(X, "center"), [[-1, -2], [1, 2]])
    np.testing.assert_array_equal(normalize_video(X, "none"), X)
    with pytest.raises(ValueError, match="feature_norm"):
        normalize_video(X, "zscore")


def test_standardize_scales_each_feature_by_its_spread_in_each_video():
    """A dim, low-contrast video's changes come out as large as a bright one's (the demo's held-out cellar)."""
    bright = np.array([[0.0, 5.0], [10.0, 5.0], [20.0, 5.0]])  # the second feature never moves in this video
    dim = 0.1 * bright + 1.0
    X = np.vstack([bright, dim])
    out = VideoNormalizer(method="standardize").fit(X).transform(X, video_ids=np.array(["a"] * 3 + ["b"] * 3))
    np.testing.assert_allclose(out[:, 0], np.tile([-1.2247449, 0.0, 1.2247449], 2), rtol=1e-5)
    np.testing.assert_allclose(out[:, 1], 0.0, atol=1e-6)  # a still feature is not blown up into noise
    np.testing.assert_allclose(normalize_video(dim, "center")[:, 0], [-1, 0, 1], rtol=1e-5)  # center alone keeps the scale


def room_video(path, base_level, seed, seconds=36):
    """Grey frames: room brightness `base_level` + 0/30/60 for neither/jerry/tom; each class a third of the time."""
    rng = np.random.default_rng(seed)
    labels = [label for label in OFFSET for _ in range(seconds // 3)]
    shots = [labels[i:i + 3] for i in range(0, seconds, 3)]
    rng.shuffle(shots)
    labels = [label for shot in shots for label in shot]
    colours = [(base_level + OFFSET[label],) * 3 for label in labels for _ in range(10)]
    write_video(path, 10, 10 * seconds, fourcc="MJPG", colours=colours)
    return labels


def test_center_is_chosen_saved_and_applied_when_rooms_differ(tmp_path, stand_in):
    rows, paths = [], []
    for k, base in enumerate([20, 70, 120, 45]):
        path = tmp_path / f"room{k}.avi"
        labels = room_video(path, base, seed=k)
        rows += [f"{path.name},{t},{t + 1},{label}" for t, label in enumerate(labels)]
        paths.append(path)
    write_labels(tmp_path / "labels.csv", rows)
    embed_videos(paths, tmp_path / "f.h5", config=TINY, make_embedder=stand_in)

    result = compare_models(tmp_path / "f.h5", tmp_path / "labels.csv", out_path=tmp_path / "m.joblib",
                            models=["logreg"], n_splits=4, n_jobs=1)
    assert result.feature_norm == "center"
    plain = {r["feature_norm"]: r["macro_f1"] for r in result.stage_scores if r["context_s"] == 0}
    assert plain["center"] > plain["none"] + 0.3
    assert {r["context_s"] for r in result.stage_scores} == {0.0, 2.0, 4.0}
    # "standardize" is an option, not a candidate of auto (measured on the demo's cartoons alone)
    assert {r["feature_norm"] for r in result.stage_scores} == {"none", "center"}
    assert result.choice["smoothing"].startswith("best macro_f1")  # smoothing: the best mean, also under one-se
    assert load_model(tmp_path / "m.joblib").feature_norm == "center"

    held_out = tmp_path / "bright room.avi"
    truth = room_video(held_out, 170, seed=9)  # a room brighter than any in training
    scored = score_videos([held_out], model_path=tmp_path / "m.joblib", store_path=tmp_path / "f.h5",
                          smooth="none", make_embedder=stand_in)
    [video] = scored.videos
    assert scored.model_info["feature_norm"] == "center"
    accuracy = np.mean(np.asarray(video.labels) == np.asarray(truth))
    assert accuracy > 0.9
    for label in OFFSET:
        assert video.screen_time_s[label] == pytest.approx(truth.count(label), abs=2.0)


def brute_context(X, t, window_s):
    """Reference: for each row, mean and population std over rows with |t_j - t_i| <= window_s."""
    out = []
    for ti in t:
        near = X[np.abs(t - ti) <= window_s + 1e-9]
        out.append(np.concatenate([near.mean(axis=0), near.std(axis=0)]))
    return np.array(out)


def test_temporal_context_shape_and_values_match_brute_force():
    rng = np.random.default_rng(0)
    X, t = rng.normal(5, 2, (40, 3)).astype(np.float32), np.arange(40) * 0.5  # 2 samples/s
    out = TemporalContext(window_s=2.0).fit(X).transform(X, times_s=t)
    assert out.shape == (40, 9) and out.dtype == np.float32
    np.testing.assert_array_equal(out[:, :3], X)
    np.testing.assert_allclose(out[:, 3:], brute_context(X, t, 2.0), rtol=1e-5, atol=1e-5)
    # at the first sample the window is one-sided: samples at 0, 0.5, ..., 2.0 s
    np.testing.assert_allclose(out[0, 3:6], X[:5].mean(axis=0), rtol=1e-5)
    assert TemporalContext(window_s=0).fit(X).transform(X, times_s=t).shape == (40, 3)


def test_temporal_context_follows_time_not_row_order():
    rng = np.random.default_rng(1)
    X, t = rng.normal(size=(30, 4)), np.arange(30, dtype=float)
    ordered = TemporalContext(window_s=3.0).fit(X).transform(X, times_s=t)
    perm = rng.permutation(30)
    shuffled = TemporalContext(window_s=3.0).fit(X).transform(X[perm], times_s=t[perm])
    np.testing.assert_allclose(shuffled, ordered[perm], rtol=1e-6)


def test_temporal_context_never_looks_across_videos():
    rng = np.random.default_rng(2)
    X, t = rng.normal(size=(20, 2)), np.tile(np.arange(10, dtype=float), 2)
    videos = np.repeat(["a", "b"], 10)
    out = TemporalContext(window_s=4.0).fit(X).transform(X, times_s=t, video_ids=videos)
    changed = X.copy()
    changed[videos == "b"] += 100.0
    out2 = TemporalContext(window_s=4.0).fit(X).transform(changed, times_s=t, video_ids=videos)
    np.testing.assert_allclose(out2[videos == "a"], out[videos == "a"])  # video b is invisible from a
    np.testing.assert_allclose(out[videos == "a", 2:], brute_context(X[:10], t[:10], 4.0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out[videos == "b", 2:], brute_context(X[10:], t[10:], 4.0), rtol=1e-5, atol=1e-6)


def test_temporal_context_needs_times_and_valid_window():
    X = np.zeros((5, 2))
    with pytest.raises(ValueError, match="times_s"):
        TemporalContext(window_s=2.0).fit(X).transform(X)
    with pytest.raises(ValueError, match="window_s"):
        TemporalContext(window_s=-1.0).fit(X)
    assert clone(TemporalContext(window_s=3.0)).get_params() == {"window_s": 3.0}


def test_video_normalizer_centres_each_video_on_its_own():
    X = np.array([[1.0], [3.0], [10.0], [20.0]])
    out = VideoNormalizer(method="center").fit(X).transform(X, video_ids=np.array(["a", "a", "b", "b"]))
    np.testing.assert_allclose(out.ravel(), [-1, 1, -5, 5])
    staged = video_features(X, np.arange(4.0), feature_norm="center", context_s=1.0, video_ids=np.array(["a", "a", "b", "b"]))
    assert staged.shape == (4, 3)
    np.testing.assert_allclose(staged[:, 1], [0, 0, 0, 0], atol=1e-6)  # window mean of a centred 2-sample video
