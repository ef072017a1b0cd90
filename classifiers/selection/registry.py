"""Registry of interchangeable classifiers: name -> function building an unfitted sklearn Pipeline.

Every entry weights classes inversely to their frequency ('balanced'), so a character on screen for
5% of the frames is not ignored:

- ``logreg``: StandardScaler -> LogisticRegression(class_weight="balanced").
- ``mlp``: StandardScaler -> PCA to at most 256 dimensions -> MLPClassifier. MLPClassifier has no
  ``class_weight``; `BalancedWeights` passes balanced sample weights to ``fit`` where it accepts them
  (scikit-learn >= 1.7) and otherwise oversamples the rarer classes to equal counts (seeded).
- ``gboost``: PCA to at most 64 dimensions -> HistGradientBoostingClassifier, classes oversampled to
  equal counts by `BalancedWeights` (its own class_weight is correct but slow, see `build_gboost`).
- ``lightgbm``: PCA to at most 128 dimensions -> LGBMClassifier(class_weight="balanced").

Trees need no scaling; the PCA keeps their fit time in bounds on 512-d and 25088-d VGG16 features
(20,000 frames x 512 features, 5 folds, 4 models: under 2 minutes on 2 cores, see bench/compare.py). Adding a model is one function and one entry in `MODELS`.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin, clone
from sklearn.decomposition import PCA
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.validation import check_is_fitted, has_fit_parameter

from classifiers.choices import MODEL_NAMES


class ReduceDims(TransformerMixin, BaseEstimator):
    """PCA to `max_components` dimensions when the input is wider, else pass through.

    Parameters
    ----------
    max_components : int
        Largest output width; also capped by the number of training samples.
    random_state : int
        Seed of the randomized SVD.
    """

    def __init__(self, *, max_components: int = 256, random_state: int = 0):
        self.max_components = max_components
        self.random_state = random_state

    def fit(self, X, y=None):
        if self.max_components < 1:
            raise ValueError(f"max_components must be >= 1, got {self.max_components}")
        X = np.asarray(X)
        self.n_features_in_ = X.shape[1]
        n_components = min(self.max_components, X.shape[0])
        if X.shape[1] <= n_components:
            self.pca_ = None
        else:
            self.pca_ = PCA(n_components=n_components, svd_solver="randomized", random_state=self.random_state).fit(X)
            # Randomized SVD leaves components_ Fortran-ordered, a model file gives them back C-ordered: the float32
            # products then differ in the last bit, which moves samples across tree bin edges. C order in both.
            self.pca_.components_ = np.ascontiguousarray(self.pca_.components_)
        return self

    def transform(self, X):
        check_is_fitted(self, "n_features_in_")
        return np.asarray(X) if self.pca_ is None else self.pca_.transform(X).astype(np.float32)


class BalancedWeights(ClassifierMixin, BaseEstimator):
    """Fit `estimator` with classes weighted 'balanced', for estimators without a usable ``class_weight``.

    Parameters
    ----------
    estimator : classifier
    method : {"auto", "sample_weight", "oversample"}
        "sample_weight": pass balanced weights to ``fit``. "oversample": draw every class, with
        replacement, up to the size of the largest (seeded). "auto": sample_weight where ``fit``
        accepts it, else oversample.
    random_state : int
        Seed of the oversampling.
    """

    def __init__(self, *, estimator=None, method: str = "auto", random_state: int = 0):
        self.estimator = estimator
        self.method = method
        self.random_state = random_state

    def fit(self, X, y):
        if self.estimator is None:
            raise ValueError("BalancedWeights needs an estimator")
        if self.method not in ("auto", "sample_weight", "oversample"):
            raise ValueError(f"method must be 'auto', 'sample_weight' or 'oversample', got {self.method!r}")
        y = np.asarray(y)
        self.estimator_ = clone(self.estimator)
        labels, counts = np.unique(y, return_counts=True)
        if getattr(self.estimator_, "early_stopping", False) is True:
            # its stratified hold-out needs one frame of every class on each side; with fewer, train on all
            n_held = int(np.ceil(self.estimator_.validation_fraction * len(y)))
            if min(n_held, len(y) - n_held) < len(labels) or counts.min() < 2:
                self.estimator_.set_params(early_stopping=False)
        use_weights = self.method == "sample_weight" or (self.method == "auto" and has_fit_parameter(self.estimator_, "sample_weight"))
        if use_weights:
            self.estimator_.fit(X, y, sample_weight=compute_sample_weight("balanced", y))
        else:
            rng = np.random.default_rng(self.random_state)
            idx = np.concatenate([rng.choice(np.flatnonzero(y == c), counts.max(), replace=n < counts.max()) for c, n in zip(labels, counts)])
            self.estimator_.fit(np.asarray(X)[idx], y[idx])
        self.classes_ = self.estimator_.classes_
        return self

    def predict(self, X):
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict(X)

    def predict_proba(self, X):
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict_proba(X)


def build_logreg(*, random_state: int = 0, n_jobs: int = 1) -> Pipeline:
    """Multinomial logistic regression on standardised features; strong L2 (C=0.1) for wide inputs."""
    return Pipeline([
        ("scale", StandardScaler()),
        ("clf", LogisticRegression(C=0.1, max_iter=300, class_weight="balanced", random_state=random_state)),
    ])


def build_mlp(*, random_state: int = 0, n_jobs: int = 1) -> Pipeline:
    """One hidden layer of 128 units after PCA to <= 256 dimensions; early stopping on 10% of the data.

    With too few frames to hold out one of every class, it trains on all of them for `max_iter` epochs instead.
    """
    mlp = MLPClassifier(hidden_layer_sizes=(128,), alpha=1e-3, max_iter=60, early_stopping=True,
                        n_iter_no_change=5, random_state=random_state)
    return Pipeline([
        ("scale", StandardScaler()),
        ("reduce", ReduceDims(max_components=256, random_state=random_state)),
        ("clf", BalancedWeights(estimator=mlp, random_state=random_state)),
    ])


def build_gboost(*, random_state: int = 0, n_jobs: int = 1) -> Pipeline:
    """Histogram gradient boosting, 100 rounds of 15-leaf trees on <= 64 principal components, classes oversampled.

    Not ``class_weight="balanced"``: scikit-learn 1.9 bins weighted data with a slow weighted percentile
    (below 200,000 samples; scikit-learn PR #34248), which made one fit 10x slower here.
    """
    hgb = HistGradientBoostingClassifier(max_iter=100, learning_rate=0.1, max_leaf_nodes=15, early_stopping=False,
                                         random_state=random_state)
    return Pipeline([
        ("reduce", ReduceDims(max_components=64, random_state=random_state)),
        ("clf", BalancedWeights(estimator=hgb, method="oversample", random_state=random_state)),
    ])


def build_lightgbm(*, random_state: int = 0, n_jobs: int = 1) -> Pipeline:
    """LightGBM, 100 rounds of 15-leaf trees on <= 128 principal components, half of them per tree."""
    from lightgbm import LGBMClassifier

    return Pipeline([
        ("reduce", ReduceDims(max_components=128, random_state=random_state)),
        ("clf", LGBMClassifier(n_estimators=100, learning_rate=0.1, num_leaves=15, colsample_bytree=0.5,
                               class_weight="balanced", random_state=random_state, n_jobs=n_jobs, verbose=-1)),
    ])


MODELS: dict[str, Callable[..., Pipeline]] = {
    "logreg": build_logreg,
    "mlp": build_mlp,
    "gboost": build_gboost,
    "lightgbm": build_lightgbm,
}
assert tuple(MODELS) == MODEL_NAMES, "classifiers.choices.MODEL_NAMES must list the registry's models in order"


def build_model(name: str, *, random_state: int = 0, n_jobs: int = 1) -> Pipeline:
    """Build the unfitted estimator registered as `name` (a key of `MODELS`).

    `n_jobs` is the number of threads the estimator itself may use (LightGBM); BLAS and OpenMP
    threads are limited by the caller with threadpoolctl.
    """
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(MODELS)}")
    return MODELS[name](random_state=random_state, n_jobs=n_jobs)
