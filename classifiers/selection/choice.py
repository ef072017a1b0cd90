"""Choosing among candidates: the best mean (the default since issue 26), or the one-standard-error rule (issue 20).

With a handful of labelled videos the fold scores of close candidates differ by less than their noise, so
taking the best mean mostly picks the candidate that fitted these folds' luck. The one-SE rule takes the
*simplest* candidate whose mean score is within one standard error of the best candidate's (the standard error
of the best's mean over folds: std over folds / sqrt(number of folds)). It only helps along an axis that is a
true order of complexity, where "simpler" means "fits less of the noise":

- the per-video stages are NOT such an axis (issue 26): temporal context is another view of the data, not more
  capacity, and centring is not simpler than not centring. On new episodes, the rule there took "center, no
  context" over the best "center, +-2 s" and the worst class error went from 11.4% to 15.3%;
- the registry's models (logreg < mlp < gboost < lightgbm) are separate families, not one family along a
  regularisation path: on bench/accuracy.py the rule along them took logreg (17.5%) over gboost (16.6%) once in
  twelve runs and never chose better than the best mean (docs/benchmarks.md, "Choice rules on new episodes").

So `selection="best"` (the default) takes the best mean everywhere, the stages one after the other (each
normalisation without context, then each window with the better one). `selection="one-se"` is issue 26's
formulation of the rule: the best mean over the joint normalisation x context grid (scored simplest first, so
equal means keep the simpler pair) and the simplest model within one SE; `selection="one-se-all"` is issue
20's rule, the one-SE rule on the joint stage grid as well, fewer features first ((none, 0 s) < (center, 0 s) <
(none, 2 s) < (center, 2 s) < ...). Both stay for comparison and for a search along a true capacity order.

Smoothing is not a capacity either: a smoother has no parameters fitted to the labels, and the rule over
smoothers made the held-out error worse (docs/benchmarks.md), so each model's smoother is its best mean.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from classifiers.choices import METRICS, MODEL_NAMES, SELECTIONS


def standard_error(values: Sequence[float]) -> float:
    """Standard error of the mean of fold scores (NaN for fewer than two finite ones)."""
    values = np.asarray([v for v in values if np.isfinite(v)], dtype=np.float64)
    return float(values.std(ddof=1) / np.sqrt(len(values))) if len(values) >= 2 else float("nan")


def is_better(a: float, b: float, metric: str) -> bool:
    return a > b if METRICS[metric] else a < b


def best_mean(rows: list[dict], metric: str) -> tuple[dict, str]:
    """The row with the best mean `metric` (the first of equals in `rows` order), and the reason."""
    best = rows[0]
    for row in rows[1:]:
        if is_better(row[metric], best[metric], metric):
            best = row
    return best, f"best {metric} {best[metric]:.3f}"


def one_standard_error(rows: list[dict], metric: str, simplicity: Callable[[dict], tuple]) -> tuple[dict, str]:
    """The simplest row whose `metric` is within one standard error (`<metric>_se`) of the best row's.

    Returns (row, reason): the reason says which was best, the margin, and why the choice won.
    """
    best, _ = best_mean(rows, metric)
    se = best.get(f"{metric}_se", float("nan"))
    margin = se if np.isfinite(se) else 0.0
    bound = best[metric] - margin if METRICS[metric] else best[metric] + margin
    eligible = [r for r in rows if (r[metric] >= bound - 1e-12 if METRICS[metric] else r[metric] <= bound + 1e-12)]
    chosen = min(eligible, key=simplicity)
    if chosen is best:
        return chosen, f"best {metric} {best[metric]:.3f} (one standard error {margin:.3f})"
    return chosen, (f"simplest within one standard error ({margin:.3f}) of the best {metric} {best[metric]:.3f}: "
                    f"{chosen[metric]:.3f}")


#: The axes each selection applies the one-SE rule along (the best mean along the others).
ONE_SE_AXES = {"best": (), "one-se": ("model",), "one-se-all": ("model", "stages")}


def choose(rows: list[dict], metric: str, simplicity: Callable[[dict], tuple], selection: str,
           axis: str = "model") -> tuple[dict, str]:
    """`one_standard_error` where `selection` applies it along `axis` ('model' or 'stages', `ONE_SE_AXES`), else
    the best mean (the first of equals in `rows` order)."""
    if selection not in SELECTIONS:
        raise ValueError(f"selection must be one of {', '.join(SELECTIONS)}, got {selection!r}")
    if axis in ONE_SE_AXES[selection]:
        return one_standard_error(rows, metric, simplicity)
    return best_mean(rows, metric)


def stage_simplicity(row: dict) -> tuple:
    return float(row["context_s"]), row["feature_norm"] != "none"


def model_simplicity(names: Sequence[str]) -> Callable[[dict], tuple]:
    """Registry order for its models; other (user-given) estimators after them, in the order given."""
    order = [m for m in MODEL_NAMES if m in names] + [m for m in names if m not in MODEL_NAMES]
    return lambda row: (order.index(row["model"]),)


def stage_grid(norms: Sequence[str], contexts: Sequence[float], selection: str) -> list[tuple[str, float]] | None:
    """The (normalisation, context) pairs to score together ('one-se', 'one-se-all': all of them, simplest first);
    None for 'best', which scores normalisations first and then windows (`classifiers.compare`)."""
    if selection == "best":
        return None
    pairs = [(n, float(k)) for n in norms for k in contexts]
    return sorted(pairs, key=lambda p: stage_simplicity({"feature_norm": p[0], "context_s": p[1]}))
