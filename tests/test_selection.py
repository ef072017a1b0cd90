"""The one-standard-error rule (issue 20): the simplest candidate within one standard error of the best, only along
capacity (the model), the best mean along the per-video stages (issue 26)."""

import numpy as np
import pytest

from classifiers.selection.choice import (choose, model_simplicity, one_standard_error, stage_grid, stage_simplicity,
                                          standard_error)


def rows(*scores_and_se, key="model", names=("logreg", "mlp", "gboost", "lightgbm")):
    return [{key: n, "macro_f1": s, "macro_f1_se": se} for n, (s, se) in zip(names, scores_and_se)]


def test_standard_error_is_the_fold_std_over_root_n_and_ignores_missing_folds():
    assert standard_error([0.8, 0.9, 1.0]) == pytest.approx(np.std([0.8, 0.9, 1.0], ddof=1) / np.sqrt(3))
    assert standard_error([0.8, np.nan, 1.0]) == pytest.approx(np.std([0.8, 1.0], ddof=1) / np.sqrt(2))
    assert np.isnan(standard_error([0.8]))


def test_one_se_takes_the_simplest_model_within_one_standard_error_of_the_best():
    candidates = rows((0.85, 0.02), (0.80, 0.01), (0.86, 0.03), (0.87, 0.05))  # best lightgbm 0.87 +- 0.05
    chosen, why = one_standard_error(candidates, "macro_f1", model_simplicity(["logreg", "mlp", "gboost", "lightgbm"]))
    assert chosen["model"] == "logreg"
    assert "simplest within one standard error (0.050) of the best macro_f1 0.870: 0.850" == why


def test_one_se_keeps_the_best_when_nothing_simpler_is_close_enough():
    candidates = rows((0.70, 0.01), (0.75, 0.01), (0.90, 0.01), (0.80, 0.01))
    chosen, why = choose(candidates, "macro_f1", model_simplicity(["logreg", "mlp", "gboost", "lightgbm"]), "one-se")
    assert chosen["model"] == "gboost" and why.startswith("best macro_f1 0.900")


def test_best_selection_takes_the_best_mean_whatever_its_noise():
    candidates = rows((0.85, 0.02), (0.80, 0.01), (0.86, 0.03), (0.87, 0.05))
    chosen, why = choose(candidates, "macro_f1", model_simplicity(["logreg", "mlp", "gboost", "lightgbm"]), "best")
    assert chosen["model"] == "lightgbm" and why == "best macro_f1 0.870"


def test_lower_is_better_metrics_take_the_bound_above_the_best():
    candidates = [{"model": "logreg", "screen_time_error_pct": 9.0, "screen_time_error_pct_se": 0.5},
                  {"model": "mlp", "screen_time_error_pct": 8.0, "screen_time_error_pct_se": 1.5}]
    chosen, _ = one_standard_error(candidates, "screen_time_error_pct", model_simplicity(["logreg", "mlp"]))
    assert chosen["model"] == "logreg"  # 9.0 <= 8.0 + 1.5
    candidates[1]["screen_time_error_pct_se"] = 0.5
    assert one_standard_error(candidates, "screen_time_error_pct", model_simplicity(["logreg", "mlp"]))[0]["model"] == "mlp"


def test_without_a_standard_error_one_se_is_the_best_mean():
    candidates = rows((0.85, np.nan), (0.86, np.nan))
    assert choose(candidates, "macro_f1", model_simplicity(["logreg", "mlp"]), "one-se")[0]["model"] == "mlp"


def test_user_estimators_count_as_more_complex_than_the_registered_ones_in_the_order_given():
    order = model_simplicity(["mine", "gboost", "logreg", "theirs"])
    assert sorted(["theirs", "mine", "gboost", "logreg"], key=lambda m: order({"model": m})) == \
        ["logreg", "gboost", "mine", "theirs"]


def test_the_joint_stage_grid_is_every_pair_simplest_first_and_sequential_for_best():
    grid = stage_grid(["none", "center"], [0.0, 2.0, 4.0], "one-se")
    assert grid == [("none", 0.0), ("center", 0.0), ("none", 2.0), ("center", 2.0), ("none", 4.0), ("center", 4.0)]
    assert stage_grid(["none", "center"], [0.0, 2.0], "best") is None
    assert sorted(grid, key=lambda p: stage_simplicity({"feature_norm": p[0], "context_s": p[1]})) == grid


def test_an_unknown_selection_is_refused_by_name():
    with pytest.raises(ValueError, match="selection must be one of best, one-se, one-se-all, got 'median'"):
        choose(rows((0.8, 0.1)), "macro_f1", model_simplicity(["logreg"]), "median")


@pytest.mark.parametrize("selection, expected, n_tried", [("one-se", ("center", 2.0), 6), ("best", ("none", 0.0), 4),
                                                         ("one-se-all", ("center", 2.0), 6)])
def test_the_joint_grid_finds_a_stage_pair_whose_parts_are_bad_alone(monkeypatch, selection, expected, n_tried):
    """Centring alone and context alone score worse than neither; only together they win. The sequential search
    (normalisation first, without context) never tries the pair; the joint grid does (issue 20)."""
    import pandas as pd

    import classifiers.compare as compare

    score = {("none", 0.0): 0.60, ("center", 0.0): 0.50, ("none", 2.0): 0.55, ("center", 2.0): 0.90,
             ("none", 4.0): 0.52, ("center", 4.0): 0.85}

    class Board:
        def __init__(self, norm, k):
            self.leaderboard = pd.DataFrame([{"macro_f1": score[(norm, k)], "macro_f1_se": 0.01}])

    monkeypatch.setattr(compare, "compare_frames", lambda data, plan, *, feature_norm, context_s, **kw:
                        Board(feature_norm, context_s))
    norm, k, tried, why = compare._choose_stages(None, None, ["none", "center"], [0.0, 2.0, 4.0], metric="macro_f1",
                                                 n_jobs=1, random_state=0, smoothers=None, selection=selection)
    assert (norm, k) == expected and len(tried) == n_tried
    assert why.startswith("best macro_f1")


def test_stages_take_the_best_mean_models_the_simplest_within_one_se(monkeypatch):
    """Issue 26: 'center, no context' within one SE of the best 'center, +-2 s' is not taken (context is another view,
    not more capacity); issue 20's rule ('one-se-all') took it. The model axis keeps the rule."""
    import pandas as pd

    import classifiers.compare as compare

    score = {("none", 0.0): 0.80, ("center", 0.0): 0.919, ("none", 2.0): 0.85, ("center", 2.0): 0.934,
             ("none", 4.0): 0.90, ("center", 4.0): 0.92}

    class Board:
        def __init__(self, norm, k):
            self.leaderboard = pd.DataFrame([{"macro_f1": score[(norm, k)], "macro_f1_se": 0.02}])

    monkeypatch.setattr(compare, "compare_frames", lambda data, plan, *, feature_norm, context_s, **kw:
                        Board(feature_norm, context_s))
    chosen = {sel: compare._choose_stages(None, None, ["none", "center"], [0.0, 2.0, 4.0], metric="macro_f1", n_jobs=1,
                                          random_state=0, smoothers=None, selection=sel)[:2]
              for sel in ("one-se", "one-se-all")}
    assert chosen == {"one-se": ("center", 2.0), "one-se-all": ("center", 0.0)}
    models = rows((0.85, 0.02), (0.80, 0.01), (0.86, 0.03), (0.87, 0.05))
    simplicity = model_simplicity(["logreg", "mlp", "gboost", "lightgbm"])
    assert choose(models, "macro_f1", simplicity, "one-se")[0]["model"] == "logreg"
    assert choose(models, "macro_f1", simplicity, "one-se", axis="stages")[0]["model"] == "lightgbm"


def test_a_fold_fit_keeps_scikit_learns_convergence_warning_off_the_terminal():
    """In a worker process (-j 2) an MLP stopping at its epoch budget printed raw ConvergenceWarning lines."""
    import warnings

    import numpy as np
    from sklearn.neural_network import MLPClassifier

    from classifiers.selection.pool import _fit_fold

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 4)), np.repeat([0, 1], 30)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fitted = _fit_fold(MLPClassifier(max_iter=1, random_state=0), X, y, np.arange(60), 1)
    assert fitted["model"].n_iter_ == 1
