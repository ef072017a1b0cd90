"""One predict path: cross-validation's held-out predictions are what `SavedModel.predict_video` gives."""

from __future__ import annotations

import numpy as np
import pytest

from classifiers.compare import compare_models
from classifiers.chain.stages import video_features
from classifiers.chain.model import SavedModel
from classifiers.chain.persist import load_model
from classifiers.selection.registry import build_model
from classifiers.chain.smoothing import Smoother
from classifiers.data.join import read_labels
from featurestore.store.store import FeatureStore
from test_compare import make_scene_store


def test_cv_held_out_predictions_equal_predict_video(tmp_path):
    store_path, labels = make_scene_store(tmp_path, 3, n_frames=60, segment_s=10, informative=True)
    smoother = Smoother("median", 3.0)
    result = compare_models(store_path, labels, models=["logreg"], n_jobs=1, feature_norm="center", context_s=2.0,
                            smoothers=[smoother], out_path=tmp_path / "m.joblib")
    assert result.cv.scheme == "leave-one-video-out" and len(result.held_out) == 3

    store = FeatureStore(store_path)
    labelled = read_labels(labels, store)  # video_id, row, requested_s, label: independent of classifiers.data.dataset
    staged = {v: video_features(store.read(v).features, store.read(v).requested_s, feature_norm="center", context_s=2.0)
              for v in store.video_ids()}
    for held in result.held_out:
        train = labelled[labelled["video_id"] != held.video_id]
        X_train = np.concatenate([staged[v][rows["row"].to_numpy()] for v, rows in train.groupby("video_id", sort=True)])
        model = build_model("logreg").fit(X_train, train.sort_values(["video_id", "requested_s"])["label"].to_numpy())
        chain = SavedModel(pipeline=model, classes=["a", "b", "c"], embedding_config={}, smoother=smoother,
                           feature_norm="center", context_s=2.0)
        v = store.read(held.video_id)
        video = chain.predict_video(v.requested_s, v.features, duration_s=v.info["duration_s"], sample_fps=1.0)
        test_rows = labelled[labelled["video_id"] == held.video_id]["row"].to_numpy()
        assert held.whole_video
        np.testing.assert_allclose(held.proba, video.proba[test_rows], atol=1e-6)
        record = held.error_record(result_labels(labelled), ["a", "b", "c"])
        assert record["predicted_s"] == pytest.approx(video.screen_time_s)

    saved = load_model(tmp_path / "m.joblib")  # the saved model is the same chain, refitted on every video
    assert (saved.feature_norm, saved.context_s, saved.smoother) == ("center", 2.0, smoother)
    v = store.read("v0.mp4")
    scored = saved.predict_video(v.requested_s, v.features, duration_s=60.0, sample_fps=1.0, video_id="v0.mp4")
    assert scored.proba.shape == (60, 3) and sum(scored.screen_time_s.values()) == pytest.approx(60.0)
    assert scored.screen_time_interval_s is not None and scored.interval_level == pytest.approx(0.75)  # 3 videos: 3/4


def result_labels(labelled) -> np.ndarray:
    """Labels in the frame order compare-models uses: by video, then time."""
    return labelled.sort_values(["video_id", "requested_s"], kind="stable")["label"].to_numpy().astype(str)


def test_predict_video_handles_a_fold_model_missing_a_class():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 4)), np.array(["a", "c"] * 20)
    chain = SavedModel(pipeline=build_model("logreg").fit(X, y), classes=["a", "b", "c"], embedding_config={},
                       smoother=Smoother("none"))
    video = chain.predict_video(np.arange(40.0), X)
    assert video.proba.shape == (40, 3) and np.all(video.proba[:, 1] == 0)
    assert video.duration_s == 40.0 and video.screen_time_s["b"] == 0.0
    assert video.screen_time_interval_s is None  # no held-out errors: no made-up interval


def test_cv_blocks_of_one_video_equal_predict_video_on_the_stretch(tmp_path):
    """A single video: each test block is scored by predict_video(stretch=...), stages over the whole video."""
    store_path, labels = make_scene_store(tmp_path, 1, n_frames=100, segment_s=10, informative=True)
    smoother = Smoother("hmm", 5.0)
    with pytest.warns(UserWarning, match="no test frames"):
        result = compare_models(store_path, labels, models=["logreg"], n_jobs=1, n_splits=4, feature_norm="center",
                                context_s=2.0, smoothers=[smoother])
    assert result.cv.scheme == "blocks" and "not for new videos" in result.cv.caveat
    v = FeatureStore(store_path).read("v0.mp4")
    labelled = read_labels(labels, FeatureStore(store_path))
    staged = video_features(v.features, v.requested_s, feature_norm="center", context_s=2.0)
    y = labelled["label"].to_numpy().astype(str)
    for held, (train, test) in zip(result.held_out, result.cv.folds):
        assert not held.whole_video and np.array_equal(held.frames, test)
        model = build_model("logreg").fit(staged[labelled["row"].to_numpy()[train]], y[train])
        chain = SavedModel(pipeline=model, classes=["a", "b", "c"], embedding_config={}, smoother=smoother,
                           feature_norm="center", context_s=2.0)
        lo, hi = test.min(), test.max()
        video = chain.predict_video(v.requested_s, v.features, sample_fps=1.0, stretch=slice(lo, hi + 1))
        assert len(video.proba) == hi - lo + 1 and video.sample_s[0] == 0.0
        np.testing.assert_allclose(held.proba, video.proba[test - lo], atol=1e-6)
