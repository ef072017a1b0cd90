"""The estimators inside a saved model's classifier, besides scikit-learn's and LightGBM's own.

- `ReduceDims`: PCA to at most `max_components` dimensions (trees and the MLP on 512-25088-d VGG16 features).
- `BalancedWeights`: classes weighted 'balanced' for estimators without a usable ``class_weight``.
- `MultiLabelClassifier` (issue 11): one binary "on screen?" classifier per character, each with its own class
  weights; its ``predict_proba`` gives each character's probability (they need not sum to 1).

They follow scikit-learn's estimator contract (`clone`, `get_params`), and model files may hold them: skops
builds them by name (`classifiers.chain.modelfile`), so a class moved elsewhere must be listed there.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin, clone
from sklearn.decomposition import PCA
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.validation import check_is_fitted, has_fit_parameter

from .decision import DEFAULT_THRESHOLD


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


class MultiLabelClassifier(ClassifierMixin, BaseEstimator):
    """One clone of `estimator` per character, each a binary "on screen?" problem with its own class weights.

    Parameters
    ----------
    estimator : classifier
        An unfitted scikit-learn classifier with ``predict_proba`` (a registry model).

    Attributes
    ----------
    estimators_ : list of fitted classifiers (None where a character's training column was constant)
    constant_proba_ : list of float
        For a constant column, its value (the character was always, or never, on screen in training): the
        probability predicted for it; -1.0 where a classifier was fitted.
    n_outputs_ : int
        Number of characters.
    """

    def __init__(self, *, estimator=None):
        self.estimator = estimator

    def fit(self, X, Y):
        """Fit one classifier per column of `Y`, shape (n_samples, n_characters), 1 = on screen."""
        if self.estimator is None:
            raise ValueError("MultiLabelClassifier needs an estimator")
        Y = np.asarray(Y)
        if Y.ndim != 2 or len(Y) != len(X):
            raise ValueError(f"Y must have shape ({len(X)}, n_characters) of 0/1, got {Y.shape}")
        self.estimators_, self.constant_proba_ = [], []
        for j in range(Y.shape[1]):
            yj = (Y[:, j] > 0).astype(np.int64)
            if yj.min() == yj.max():  # a fold without this character (or only with it): nothing to learn
                self.estimators_.append(None)
                self.constant_proba_.append(float(yj[0]))
            else:
                self.estimators_.append(clone(self.estimator).fit(X, yj))
                self.constant_proba_.append(-1.0)
        self.n_outputs_ = Y.shape[1]
        return self

    def predict_proba(self, X):
        """Probability that each character is on screen, shape (n_samples, n_characters), float64."""
        check_is_fitted(self, "estimators_")
        out = np.empty((len(X), self.n_outputs_))
        for j, (est, constant) in enumerate(zip(self.estimators_, self.constant_proba_)):
            if est is None:
                out[:, j] = constant
            else:
                out[:, j] = est.predict_proba(X)[:, list(est.classes_).index(1)]
        return out

    def predict(self, X):
        """On screen (1) or not (0) per character at `DEFAULT_THRESHOLD`, shape (n_samples, n_characters)."""
        return (self.predict_proba(X) >= DEFAULT_THRESHOLD).astype(np.int64)
