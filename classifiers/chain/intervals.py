"""Error bars on screen time, from how wrong whole held-out videos were in cross-validation.

For every video that cross-validation held out whole, and every class, the signed error of the
predicted screen time is recorded as a share of the video's labelled seconds:
``e = (predicted_s - true_s) / labelled_s``. These shares are saved with the model, with the method that
turns them into intervals. For a new video of `duration_s` seconds with predicted screen time ``p`` of a
class, the interval is ``p -+ h * duration_s`` (never narrower than one sampling interval, clipped to
[0, duration_s]), where the half-width share ``h`` comes from one of `METHODS`:

- ``cv-plus`` (the default since issue 20): CV+ (the jackknife+ of Barber, Candes, Ramdas and Tibshirani
  2021, over videos). The model file keeps the cross-validation fold models; each held-out video v, tested
  by the fold model trained without it, scores ``s_v = max over classes |e_vc|``. On a new video every fold
  model predicts its own screen time ``p_k``; the interval runs from the k-th smallest ``p_fold(v) - s_v * D``
  to the k-th largest ``p_fold(v) + s_v * D`` (D the new video's duration; ``k = floor((1 - level) * (n + 1))``,
  at least 1), and always holds the model's own prediction. It widens where models trained on different
  videos disagree about *this* video -- the episodes unlike the labelled ones, which split conformal misses --
  and is as narrow as the CV errors where they agree. Its level claims are as conformal's (below); the
  theory guarantees at least 1 - 2(1 - level), and it is usually near the level.
- ``conformal``: split conformal prediction over videos. Each held-out video
  scores ``s_v = max over classes |e_vc|`` (a video's classes are off together: a hard episode is hard
  for every class), and ``h`` is the k-th smallest of the n scores, ``k = ceil((n + 1) * level)``. If the
  videos are exchangeable, a new video's errors all fall inside with probability at least k / (n + 1),
  whatever the distribution. With n videos no method can honestly claim more than n / (n + 1): when the
  level asked for is above that, the intervals are the widest score's, and claim n / (n + 1) (80% with
  4 labelled videos, 67% with 2), which the JSON states as ``interval_level``.
- ``conformal-class``: the same per class (the k-th smallest ``|e_vc|`` of each class): narrower for easy
  classes, with the same claimed level.
- ``t-rms`` (models saved before issue 20): ``t_df((1 + level) / 2) * rms(e)`` with ``df = n_videos``, the
  RMS pooled over every (video, class) error. It is a normal-theory prediction interval, and it was too
  narrow with good features: on the ImageNet stand-in's features it covered 4 of 9 truths at 90%.

Models without fold models (saved with another method, or before issue 20) give their method's intervals;
a ``cv-plus`` spread without fold predictions falls back to ``conformal`` on the same errors (`without_folds`),
and the score JSON's ``model.intervals.method`` and note say so.

`bench/accuracy.py` measures every method's coverage and width on the same held-out
episodes; docs/benchmarks.md has the figures that chose the default. The errors come from videos like the
labelled ones: an episode unlike all of them (another camera style, lighting, character size) can be
further off than the interval says (`score` flags such videos).
"""

from __future__ import annotations

import math

import numpy as np

from classifiers.choices import DEFAULT_INTERVAL_METHOD, INTERVAL_METHODS

INTERVAL_LEVEL = 0.9
METHODS = INTERVAL_METHODS
DEFAULT_METHOD = DEFAULT_INTERVAL_METHOD
#: Fewer held-out videos than this give no interval at all, by method (t-rms needs a spread; conformal a second
#: video: one error says nothing of the next).
MIN_VIDEOS = {"cv-plus": 2, "conformal": 2, "conformal-class": 2, "t-rms": 3}
WHOLE_VIDEO_SCHEMES = ("grouped", "leave-one-video-out")


def error_spread(records: list[dict], classes: list[str], scheme: str, *, multi_label: bool = False,
                 method: str = DEFAULT_METHOD) -> dict:
    """What the saved model keeps to give intervals later: per-class error shares of held-out videos.

    Parameters
    ----------
    records : list of dict
        One per held-out video: ``{"video": str, "labelled_s": float, "true_s": {class: s}, "predicted_s": {class: s}}``.
    classes : list of str
    scheme : str
        The cross-validation scheme; only whole-video schemes give usable errors.
    multi_label : bool
        The classes are characters that can share the screen (recorded as ``"multi_label": true``).
    method : one of `METHODS`

    Returns
    -------
    dict, JSON-able: ``{"n_videos": int, "videos": [str], "error_share": {class: [float per video]}, "note": str,
    "method": str}`` (and ``"multi_label": true`` for characters); `note` is non-empty when no interval can be
    given, and says why.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    if scheme not in WHOLE_VIDEO_SCHEMES:
        return {"n_videos": 0, "videos": [], "error_share": {}, "method": method,
                "note": f"no interval: cross-validation held out no whole video ({scheme} split); "
                        f"label at least {MIN_VIDEOS[method]} videos"}
    records = [r for r in records if r["labelled_s"] > 0]
    shares = {c: [float((r["predicted_s"].get(c, 0.0) - r["true_s"].get(c, 0.0)) / r["labelled_s"]) for r in records]
              for c in classes}
    note = ""
    if len(records) < MIN_VIDEOS[method]:
        note = (f"no interval: only {len(records)} labelled videos were held out in cross-validation, "
                f"at least {MIN_VIDEOS[method]} are needed to estimate one; label more videos")
    spread = {"n_videos": len(records), "videos": [str(r["video"]) for r in records], "error_share": shares, "note": note,
              "method": method, "folds": [int(r.get("fold", 0)) - 1 for r in records]}  # 0-based fold of each video
    return {**spread, "multi_label": True} if multi_label else spread


def method_of(spread: dict) -> str:
    """The method a spread was saved with ('t-rms' for models saved before methods were recorded)."""
    return str(spread.get("method", "t-rms"))


def without_folds(spread: dict) -> dict:
    """The spread a ``cv-plus`` model scores with when it has no fold models to run (removed from its file):
    ``conformal`` on the same errors, recorded as ``"saved_method": "cv-plus"`` so that the note says so."""
    if method_of(spread) != "cv-plus" or spread.get("note"):
        return spread
    return {**spread, "method": "conformal", "saved_method": "cv-plus"}


def in_use(spread: dict, n_fold_models: int) -> dict:
    """The spread a model scores with when it holds `n_fold_models` fold models: `spread`, except that a ``cv-plus``
    one whose fold models are gone (or do not cover its folds) is ``conformal`` (`without_folds`). Frame and face
    models (`SavedModel.interval_in_use`, `FaceModel.interval_in_use`) both decide by it."""
    folds = spread.get("folds") or []
    if method_of(spread) == "cv-plus" and (not folds or not n_fold_models or max(folds) >= n_fold_models):
        return without_folds(spread)
    return spread


def claimed_level(spread: dict, level: float = INTERVAL_LEVEL) -> float | None:
    """The level the intervals of `spread` can honestly claim when `level` is asked for; None without intervals."""
    _check_level(level)
    n = int(spread.get("n_videos", 0)) if spread else 0
    method = method_of(spread) if spread else DEFAULT_METHOD
    if not spread or spread.get("note") or n < MIN_VIDEOS.get(method, 3):
        return None
    if method == "t-rms":
        return level
    return min(level, n / (n + 1))


def video_scores(spread: dict) -> np.ndarray:
    """Each held-out video's conformity score: its largest |error share| over the classes, shape (n_videos,)."""
    return np.max(np.abs(np.vstack([np.asarray(e, dtype=np.float64) for e in spread["error_share"].values()])), axis=0)


def half_width_share(spread: dict, level: float = INTERVAL_LEVEL) -> dict[str, float] | None:
    """Half-width of the interval per class, as a share of a video's duration; None without an interval."""
    claimed = claimed_level(spread, level)
    if claimed is None:
        return None
    errors = {c: np.abs(np.asarray(e, dtype=np.float64)) for c, e in spread["error_share"].items()}
    n = int(spread["n_videos"])
    method = method_of(spread)
    if method == "t-rms":
        from scipy.stats import t as student_t

        pooled = np.concatenate(list(errors.values()))
        df = n  # the videos are the independent draws (module docstring)
        half = float(student_t.ppf((1.0 + level) / 2.0, df=df)) * float(np.sqrt(np.mean(np.square(pooled))))
        return {c: half for c in errors}
    k = min(n, max(1, math.ceil((n + 1) * claimed - 1e-9)))  # the k-th smallest score covers claimed of new videos
    if method == "conformal-class":
        return {c: float(np.sort(e)[k - 1]) for c, e in errors.items()}
    half = float(np.sort(video_scores(spread))[k - 1])
    return {c: half for c in errors}


def screen_time_interval(screen_time_s: dict[str, float], duration_s: float, spread: dict,
                         level: float = INTERVAL_LEVEL, *, min_half_width_s: float = 0.0,
                         fold_screen_time_s: list[dict[str, float]] | None = None) -> dict[str, tuple[float, float]] | None:
    """Interval on each class's screen time in one video, in seconds; None when the model has none.

    Parameters
    ----------
    screen_time_s : dict of class -> predicted seconds
    duration_s : float
        Length of the video, in seconds.
    spread : dict
        As returned by `error_spread` (saved with the model).
    level : float
        Share of new videos whose true screen time the interval is meant to contain, in (0, 1); the intervals
        claim `claimed_level(spread, level)`, which may be lower (too few held-out videos for `level`).
    min_half_width_s : float
        Narrowest half-width, in seconds (one sampling interval: no count of samples is more exact).
    fold_screen_time_s : list of dict, optional
        ``cv-plus``: each fold model's screen time per class on this video (fold k at index k - 1).
    """
    if fold_screen_time_s is not None and method_of(spread) == "cv-plus":
        return _cv_plus(screen_time_s, duration_s, spread, level, min_half_width_s, fold_screen_time_s)
    half = half_width_share(spread, level)
    if half is None:
        return None
    out = {}
    for c, p in screen_time_s.items():
        h = max(half.get(c, 0.0) * duration_s, min_half_width_s)
        out[c] = (float(max(0.0, p - h)), float(min(duration_s, p + h)))
    return out


def _cv_plus(screen_time_s, duration_s, spread, level, min_half_width_s, folds) -> dict[str, tuple[float, float]] | None:
    claimed = claimed_level(spread, level)
    if claimed is None:
        return None
    n = int(spread["n_videos"])
    k = max(1, math.floor((1.0 - claimed) * (n + 1) + 1e-9))
    score = video_scores(spread)
    out = {}
    for c, p in screen_time_s.items():
        predicted = np.array([folds[f].get(c, 0.0) for f in spread["folds"]])
        low = np.sort(predicted - score * duration_s)[k - 1]
        high = np.sort(predicted + score * duration_s)[-k]
        low, high = min(low, p - min_half_width_s), max(high, p + min_half_width_s)
        out[c] = (float(max(0.0, low)), float(min(duration_s, high)))
    return out


def interval_note(spread: dict, level: float = INTERVAL_LEVEL) -> str:
    """One line on where the intervals come from and the level they claim, or why there are none."""
    if not spread:
        return "no interval: this model was saved without cross-validation errors; retrain it with compare-models"
    if spread.get("note"):
        return spread["note"]
    n, method = spread["n_videos"], method_of(spread)
    claimed = claimed_level(spread, level)
    source = f"the screen-time errors of {n} whole videos held out in cross-validation"
    if method == "t-rms":
        return f"intervals from {source}"
    how = {"cv-plus": "CV+ over their fold models (jackknife+)", "conformal": "split conformal prediction over videos",
           "conformal-class": "split conformal prediction over videos, per class"}[method]
    if spread.get("saved_method") == "cv-plus":
        how += " (the model was saved for CV+, but its file keeps no fold models to run)"
    if claimed is not None and claimed < level - 1e-9:
        return (f"{100 * claimed:.0f}% intervals ({100 * level:g}% asked; {n} held-out videos can support no more than "
                f"{n}/{n + 1}: label more videos) from {source}, by {how}")
    return f"{100 * level:g}% intervals from {source}, by {how}"


def _check_level(level: float) -> None:
    if not 0.0 < level < 1.0:
        raise ValueError(f"interval level must be between 0 and 1 (e.g. 0.9), got {level}")
