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

from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from classifiers.chain.estimators import BalancedWeights, ReduceDims
from classifiers.choices import MODEL_NAMES


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
