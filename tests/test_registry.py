"""Registry entries: sklearn-compatible pipelines, class weights that help the minority class."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from threadpoolctl import threadpool_limits

from classifiers.selection.registry import MODELS, build_model
from classifiers.chain.estimators import BalancedWeights, ReduceDims


def blobs(n_major, n_minor, n_features=8, shift=1.0, seed=0):
    """Two overlapping Gaussian classes: 'major' around 0, 'minor' around `shift` in every feature."""
    rng = np.random.default_rng(seed)
    X = np.vstack([rng.normal(0, 1, (n_major, n_features)), rng.normal(shift, 1, (n_minor, n_features))]).astype(np.float32)
    y = np.array(["major"] * n_major + ["minor"] * n_minor)
    return X, y


@pytest.mark.parametrize("name", list(MODELS))
def test_build_model_fits_and_predicts_proba(name):
    X, y = blobs(150, 60)
    y[:40] = "third"
    model = clone(build_model(name, random_state=0))
    with threadpool_limits(1):  # OpenMP threads on a busy 2-core machine only add waiting
        proba = model.fit(X, y).predict_proba(X)
    assert proba.shape == (len(X), 3)
    assert list(model.classes_) == ["major", "minor", "third"]
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)


@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_every_model_fits_a_handful_of_frames(name):
    # a first try labels a few seconds: 3 frames of each of 3 classes is too few for the MLP's early-stopping hold-out
    X, y = blobs(3, 3, shift=4.0)
    X, y = np.vstack([X, X[:3] - 4.0]), np.concatenate([y, ["third"] * 3])
    model = clone(build_model(name, random_state=0))
    with threadpool_limits(1):
        pred = model.fit(X, y).predict(X)
    assert list(model.classes_) == ["major", "minor", "third"] and len(pred) == 9


def test_build_model_unknown_name():
    with pytest.raises(ValueError, match="unknown model 'svm'; known: logreg"):
        build_model("svm")


def minority_recall(model, seed=1):
    X, y = blobs(950, 50, shift=0.8)
    Xt, yt = blobs(500, 500, shift=0.8, seed=seed)
    pred = model.fit(X, y).predict(Xt)
    return np.mean(pred[yt == "minor"] == "minor")


def test_logreg_class_weights_raise_minority_recall():
    weighted = minority_recall(build_model("logreg"))
    plain = minority_recall(build_model("logreg").set_params(clf__class_weight=None))
    assert weighted > plain + 0.3


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_balanced_weights_raise_mlp_minority_recall():
    mlp = MLPClassifier(hidden_layer_sizes=(16,), max_iter=300, random_state=0)
    weighted = minority_recall(BalancedWeights(estimator=mlp))
    plain = minority_recall(clone(mlp))
    assert weighted > plain + 0.3


def test_balanced_weights_refuses_unknown_method():
    with pytest.raises(ValueError, match="method must be"):
        BalancedWeights(estimator=KNeighborsClassifier(), method="smote").fit(*blobs(10, 10))


def test_balanced_weights_resamples_when_fit_has_no_sample_weight():
    X, y = blobs(950, 50, shift=0.8)
    model = BalancedWeights(estimator=KNeighborsClassifier(n_neighbors=15)).fit(X, y)
    plain = KNeighborsClassifier(n_neighbors=15).fit(X, y)
    Xt, yt = blobs(500, 500, shift=0.8, seed=1)
    assert np.mean(model.predict(Xt)[yt == "minor"] == "minor") > np.mean(plain.predict(Xt)[yt == "minor"] == "minor") + 0.2
    assert list(model.classes_) == ["major", "minor"]


def test_reduce_dims_only_narrows_wide_features():
    X = np.random.default_rng(0).normal(size=(300, 40)).astype(np.float32)
    assert ReduceDims(max_components=16).fit(X).transform(X).shape == (300, 16)
    assert ReduceDims(max_components=64).fit(X).transform(X).shape == (300, 40)
    assert ReduceDims(max_components=500).fit(X[:30]).transform(X).shape == (300, 30)  # capped by samples
