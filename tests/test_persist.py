"""Model files: round trip, refusal of anything that is not a screentime model, config and version checks."""

from __future__ import annotations

import joblib
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from classifiers.chain import persist
from classifiers.chain.intervals import interval_note
from classifiers.chain.persist import check_config, load_model, save_model
from classifiers.selection.registry import build_model
from classifiers.chain.smoothing import Smoother
from featurestore.errors import ModelFileRefused, StoreMismatch

CONFIG = {"model": "vgg16", "weights": "random:seed=0", "pooling": "avg", "image_size_px": 224, "n_features": 6}


@pytest.fixture
def model_path(tmp_path):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 6)), np.array(["jerry", "tom", "neither"] * 20)
    pipeline = build_model("logreg").fit(X, y)
    return save_model(tmp_path / "best.joblib", pipeline=pipeline, classes=list(pipeline.classes_), embedding_config=CONFIG,
                      smoother=Smoother("median", 5.0), model_name="logreg", cv={"scheme": "grouped"},
                      scores={"macro_f1": 0.5}, training_videos=["a.mp4"])


def test_load_model_round_trips(model_path):
    saved = load_model(model_path)
    assert saved.classes == ["jerry", "neither", "tom"]
    assert saved.embedding_config == CONFIG
    assert saved.smoother == Smoother("median", 5.0)
    assert saved.cv == {"scheme": "grouped"} and saved.scores == {"macro_f1": 0.5} and saved.training_videos == ["a.mp4"]
    assert saved.versions["scikit-learn"] and saved.created_at and saved.model_name == "logreg"
    assert saved.pipeline.predict_proba(np.zeros((4, 6))).shape == (4, 3)
    assert not list(model_path.parent.glob(".*tmp*"))
    assert (saved.feature_norm, saved.context_s, saved.interval) == ("none", 0.0, {})  # saved without them: no stages, no interval
    assert "retrain it with compare-models" in interval_note(saved.interval)
    assert saved.predict_video(np.arange(4.0), np.zeros((4, 6))).screen_time_interval_s is None


def test_save_model_keeps_stages_and_interval(tmp_path):
    rng = np.random.default_rng(1)
    pipeline = build_model("logreg").fit(rng.normal(size=(30, 18)), np.array(["a", "b", "c"] * 10))  # 6 features + context
    spread = {"n_videos": 3, "videos": ["x", "y", "z"], "error_share": {"a": [0.1, -0.1, 0.0], "b": [0.0, 0.1, -0.1],
                                                                         "c": [-0.1, 0.0, 0.1]}, "note": ""}
    path = save_model(tmp_path / "m.joblib", pipeline=pipeline, classes=["a", "b", "c"], embedding_config=CONFIG,
                      smoother=Smoother("none"), feature_norm="center", context_s=2.0, interval=spread)
    saved = load_model(path)
    assert (saved.feature_norm, saved.context_s, saved.interval) == ("center", 2.0, spread)
    video = saved.predict_video(np.arange(40.0), rng.normal(size=(40, 6)))
    assert set(video.screen_time_interval_s) == {"a", "b", "c"} and video.interval_level == 0.9


def test_load_model_refuses_missing_file(tmp_path):
    with pytest.raises(ModelFileRefused, match="nope.joblib does not exist; train one"):
        load_model(tmp_path / "nope.joblib")
    with pytest.raises(ModelFileRefused, match="is a folder; give the file written by"):
        load_model(tmp_path)


def test_load_model_refuses_corrupt_file(tmp_path, model_path):
    (tmp_path / "junk.joblib").write_bytes(b"not a pickle at all")
    with pytest.raises(ModelFileRefused, match="junk.joblib cannot be read .* corrupt or not a screentime model"):
        load_model(tmp_path / "junk.joblib")
    data = model_path.read_bytes()
    (tmp_path / "cut.joblib").write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileRefused, match="cut.joblib cannot be read"):
        load_model(tmp_path / "cut.joblib")


@pytest.mark.parametrize("payload, kind", [({"pipeline": 1}, "dict"), (LogisticRegression(), "LogisticRegression"), ([1, 2], "list")])
def test_load_model_refuses_foreign_model_file(tmp_path, payload, kind):
    import skops.io as sio

    sio.dump(payload, tmp_path / "other.skops")
    with pytest.raises(ModelFileRefused, match=f"other.skops holds a {kind}, not a screentime model"):
        load_model(tmp_path / "other.skops")
    joblib.dump(payload, tmp_path / "other.joblib")  # a pickle is refused before anything in it is built
    with pytest.raises(ModelFileRefused, match="other.joblib is a pickle .* not a screentime model file"):
        load_model(tmp_path / "other.joblib")


def test_load_model_warns_about_other_library_versions(model_path, monkeypatch):
    real = persist.library_versions(persist.MODEL_LIBRARIES)
    monkeypatch.setattr(persist, "library_versions", lambda *names: {**real, "scikit-learn": "0.24.2"})
    with pytest.warns(UserWarning, match="saved with scikit-learn .*, this is 0.24.2"):
        load_model(model_path)


def test_check_config_refuses_other_embedding(model_path):
    saved = load_model(model_path)
    check_config(saved, dict(CONFIG))
    with pytest.raises(StoreMismatch, match=r"best.joblib was trained on features unlike those in other.h5 \(model vs store: pooling 'avg' vs 'max'\); re-embed"):
        check_config(saved, {**CONFIG, "pooling": "max"}, store_path="other.h5")
