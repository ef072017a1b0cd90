"""The saved model against its own labels (issue 26): the refit is checked, and the choice falls to the next model.

The cars/bikes case: one 10 s video at 4 samples a second, labelled ``0:00-0:05 cars``, ``0:05-0:10 bikes``; the
features are each class's own vector plus noise, so a model that learns anything reproduces the labels.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.dummy import DummyClassifier

from classifiers.chain.persist import load_model
from classifiers.compare import compare_models
from classifiers.selection.refit import AGREEMENT_FLOOR, agrees
from classifiers.selection.registry import build_model
from featurestore.errors import TrainingDisagreesWarning
from featurestore.store.store import FeatureStore

CONFIG = {"model": "vgg16", "weights": "random:seed=0", "pooling": "avg", "image_size_px": 224, "n_features": 32}


def cars_bikes(tmp_path, seed=0):
    """Store and labels of the cars/bikes video (40 samples, 4/s); the truth of each sample."""
    rng = np.random.default_rng(seed)
    t = np.arange(40) / 4.0
    truth = np.where(t < 5.0, "cars", "bikes")
    means = {"cars": rng.normal(0, 1, 32), "bikes": rng.normal(0, 1, 32)}
    X = np.stack([means[c] for c in truth]) + rng.normal(0, 0.3, (40, 32))
    store = FeatureStore(tmp_path / "f.h5", mode="a", config=CONFIG)
    store.put("cb.mp4", requested_s=t, actual_s=t, features=X.astype(np.float32), info={"sample_fps": 4.0, "duration_s": 10.0})
    (tmp_path / "l.csv").write_text("video,start,end,label\ncb.mp4,0:00,0:05,cars\ncb.mp4,0:05,0:10,bikes\n")
    return tmp_path / "f.h5", tmp_path / "l.csv", truth


def saved_labels(model_path, store_path):
    v = FeatureStore(store_path).read("cb.mp4")
    return np.asarray(load_model(model_path).predict_video(v.requested_s, v.features, duration_s=10.0).labels)


class ForgetsOnRefit(ClassifierMixin, BaseEstimator):
    """Logistic regression on cross-validation's folds; on all 40 frames (the refit) it says the first class always."""

    def fit(self, X, y):
        self.model_ = (DummyClassifier(strategy="constant", constant=sorted(set(y))[0]) if len(y) >= 40
                       else build_model("logreg")).fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba(X)


def test_refit_cars_bikes_saved_model_reproduces_its_labels_or_warns(tmp_path):
    store, labels, truth = cars_bikes(tmp_path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = compare_models(store, labels, out_path=tmp_path / "m.skops")
    said = [str(w.message) for w in caught if issubclass(w.category, TrainingDisagreesWarning)]
    reproduced = np.mean(saved_labels(tmp_path / "m.skops", store) == truth)
    assert reproduced >= 0.9 or any(result.best_name in s for s in said), (result.best_name, reproduced, said)
    assert result.training_agreement == pytest.approx(load_model(tmp_path / "m.skops").scores["training_macro_f1"])


def test_refit_falls_to_the_next_model_and_says_why(tmp_path):
    store, labels, truth = cars_bikes(tmp_path)
    with pytest.warns(TrainingDisagreesWarning, match=r"forgets refitted on every labelled frame .*logreg is chosen instead"):
        result = compare_models(store, labels, out_path=tmp_path / "m.skops", selection="best",
                                models={"forgets": ForgetsOnRefit(), "logreg": build_model("logreg")})
    assert result.best_name == "logreg" and "forgets" in result.choice["model"]
    assert result.leaderboard.set_index("model")["winner"].to_dict() == {"forgets": False, "logreg": True}
    assert load_model(tmp_path / "m.skops").model_name == "logreg"
    assert np.mean(saved_labels(tmp_path / "m.skops", store) == truth) >= 0.9


def test_refit_no_model_agrees_saves_the_best_with_a_warning_naming_it(tmp_path):
    store, labels, _ = cars_bikes(tmp_path)
    with pytest.warns(TrainingDisagreesWarning, match=r"forgets .*training macro F1 0\.33.*saved anyway"):
        result = compare_models(store, labels, out_path=tmp_path / "m.skops", models={"forgets": ForgetsOnRefit()})
    assert result.best_name == "forgets" and result.training_agreement == pytest.approx(1 / 3)


def test_refit_agrees_floor_and_margin():
    assert agrees(1.0, 0.9) and agrees(AGREEMENT_FLOOR, 0.7)
    assert not agrees(AGREEMENT_FLOOR - 0.01, 0.3)  # below the floor, whatever CV said
    assert not agrees(0.65, 0.95)  # far below its own cross-validated score
