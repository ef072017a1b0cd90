"""Which seconds are worth labelling: a value per sample from the model's probabilities, then spans under a budget.

Works on probability matrices of shape (n_samples, n_columns): for a single-label model the columns are
the classes (rows sum to 1); for a multi-label model each column is its own yes/no question (is this
character on screen?), and every measure is taken per column and the worst column counts.

Per sample, three measures in [0, 1] (`sample_values`):

- uncertainty: 1 - (top probability - runner-up) after smoothing (multi-label: closeness to each character's
  threshold, 1 - |2p - 1| at 0.5, worst column);
- instability: how far smoothing moved the classifier's own per-sample output (total variation distance
  between the unsmoothed and smoothed probabilities; multi-label: largest change of a column): the
  classifier flickers there and smoothing hides it;
- disagreement: how far the cross-validation fold models' smoothed probabilities are from their mean
  (mean total variation distance; multi-label: worst column): models trained on different videos
  read these seconds differently, so they depend on what the training happened to contain.

value = uncertainty + instability + disagreement. Spans are chosen greedily (`pick_spans`): the best
2 s window of available (unlabelled) seconds; then everything near it is worth less, so the budget
spreads over videos, scenes and guessed classes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

MIN_SPAN_S = 2.0
MAX_SPAN_S = 6.0
#: After a span is picked, the rest of its scene is worth this share, ...
SAME_SCENE = 0.25
#: ... seconds of its video guessed as the span's guess this share, ...
SAME_GUESS = 0.5
#: ... and every other second of its video this share per span already picked there (1 / (1 + n)^VIDEO_DECAY).
VIDEO_DECAY = 1.0
_TOL_S = 1e-6


@dataclass
class Candidates:
    """One video's samples as the selection sees them.

    Attributes
    ----------
    video_id : str
    sample_s : ndarray of shape (n,), seconds (the sampling grid)
    step_s : float, seconds between samples
    value : ndarray of shape (n,), float: worth of labelling each sample (`sample_values`)
    available : ndarray of shape (n,), bool: False where the sample's interval touches labelled time
    guess : ndarray of shape (n,), str: the model's current guess per sample
    scene : ndarray of shape (n,), int: scene number of each sample (`scenes`)
    """

    video_id: str
    sample_s: np.ndarray
    step_s: float
    value: np.ndarray
    available: np.ndarray
    guess: np.ndarray
    scene: np.ndarray
    parts: dict = field(default_factory=dict)  # name -> (n,) array: the measures `value` was summed from
    duration_s: float = float("inf")  # the video's length: no span ends after it (issue 26)


@dataclass(frozen=True)
class Span:
    """A suggested span [start_s, end_s) of a video: samples ``first .. last`` (inclusive) of its Candidates."""

    video_id: str
    start_s: float
    end_s: float
    first: int
    last: int
    value: float  # mean value per sample at the time it was picked (after spreading)

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


def sample_values(proba: np.ndarray, raw: np.ndarray | None = None, committee: np.ndarray | None = None, *,
                  multilabel: bool = False, thresholds: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Uncertainty, instability and disagreement per sample, and their sum.

    Parameters
    ----------
    proba : ndarray of shape (n, n_columns)
        Smoothed probabilities of the model (the ones `score` reports).
    raw : ndarray of shape (n, n_columns), optional
        The same before smoothing; without it instability is 0.
    committee : ndarray of shape (n_models, n, n_columns), optional
        Smoothed probabilities of each fold model; without it (or with one model) disagreement is 0.
    multilabel : bool
        Columns are independent yes/no probabilities, not a distribution over classes.
    thresholds : ndarray of shape (n_columns,), optional
        Multi-label: the probability at which each column's answer turns to yes (default 0.5); uncertainty
        is 1 at the threshold and 0 at 0 or 1, linear in between.

    Returns
    -------
    dict with "uncertainty", "instability", "disagreement", "value": ndarrays of shape (n,), float64
    """
    proba = np.asarray(proba, dtype=np.float64)
    n = len(proba)
    if multilabel:
        thr = np.full(proba.shape[1], 0.5) if thresholds is None else np.clip(np.asarray(thresholds, dtype=np.float64), 1e-6, 1 - 1e-6)
        room = np.where(proba >= thr, 1.0 - thr, thr)  # distance from the threshold to the sure end on that side
        uncertainty = (1.0 - np.abs(proba - thr) / room).max(axis=1, initial=0.0)
    elif proba.shape[1] > 1:
        top2 = np.sort(proba, axis=1)[:, -2:]
        uncertainty = 1.0 - (top2[:, 1] - top2[:, 0])
    else:
        uncertainty = np.zeros(n)
    instability = np.zeros(n) if raw is None else _distance(np.asarray(raw, dtype=np.float64), proba, multilabel)
    disagreement = np.zeros(n)
    if committee is not None and len(committee) > 1:
        committee = np.asarray(committee, dtype=np.float64)
        mean = committee.mean(axis=0)
        disagreement = np.mean([_distance(p, mean, multilabel) for p in committee], axis=0)
    parts = {"uncertainty": uncertainty, "instability": instability, "disagreement": disagreement}
    return {**parts, "value": uncertainty + instability + disagreement}


def _distance(a: np.ndarray, b: np.ndarray, multilabel: bool) -> np.ndarray:
    """Per row: total variation distance (single-label) or the largest column difference (multi-label), in [0, 1]."""
    diff = np.abs(a - b)
    return diff.max(axis=1, initial=0.0) if multilabel else 0.5 * diff.sum(axis=1)


def scenes(features: np.ndarray, *, min_jump: float = 3.0) -> np.ndarray:
    """Scene number of each sample of one video: a new scene starts where consecutive features jump.

    A jump is a distance between consecutive samples' features (each scaled to unit length) above the
    median such distance by more than `min_jump` times their median absolute deviation and by more than
    half the median: far more than the video's own motion from one sample to the next, as at a cut.
    On the generated cartoons of bench/accuracy.py (stored features as embedded), 28 of 32 cuts found
    were real, and two shots in five were merged with a neighbour.

    Parameters
    ----------
    features : ndarray of shape (n, n_features), samples in time order, as embedded

    Returns
    -------
    ndarray of shape (n,), int: 0 for the first scene, increasing by one at each cut.
    """
    X = np.asarray(features, dtype=np.float64)
    if len(X) < 3:
        return np.zeros(len(X), dtype=int)
    X = X / np.clip(np.linalg.norm(X, axis=1, keepdims=True), 1e-12, None)
    step = np.linalg.norm(np.diff(X, axis=0), axis=1)
    median = np.median(step)
    mad = np.median(np.abs(step - median))
    cut = step > median + max(min_jump * mad, 0.5 * median, 1e-12)
    return np.r_[0, np.cumsum(cut)].astype(int)


def span_lengths(step_s: float) -> list[int]:
    """Allowed span lengths, in samples: whole seconds from 2 to 6 s that are whole numbers of samples.

    At 1 sample/s: 2..6 samples; at 2/s: 4, 6, ..., 12; at 0.5/s: 1, 2, 3. A grid with no such length
    (e.g. one sample every 2.5 s) gets every number of samples spanning 2 to 6 s, or one sample.
    """
    lengths = []
    for seconds in range(int(MIN_SPAN_S), int(MAX_SPAN_S) + 1):
        n = seconds / step_s
        if abs(n - round(n)) < 1e-6 and round(n) >= 1:
            lengths.append(int(round(n)))
    if not lengths:
        lengths = [n for n in range(1, int(MAX_SPAN_S / step_s) + 1) if n * step_s >= MIN_SPAN_S - _TOL_S] or [1]
    return sorted(set(lengths))


def pick_spans(videos: list[Candidates], budget_s: float) -> list[Span]:
    """Spans of 2-6 s of available samples, totalling at most `budget_s` seconds, best first.

    Greedy: each round takes the window of the shortest allowed length (2 s) with the highest worth
    (sum of its samples' current worth) among all videos and records it as a span. Short spans buy the
    most distinct moments for the budget: on bench/active.py, 2 s spans at the same places did far better
    than spans grown over their valuable neighbours (worst class error 12.3% and 7.6% against 24.1% and
    16.1% at 30 s and 60 s). After each pick, to spread the budget:

    - the rest of the span's scene (`scenes`) is worth `SAME_SCENE` of its value, so one shot gives one span;
    - other seconds of the same video with the same guess are worth `SAME_GUESS` of theirs, so the
      guessed classes of a video are all looked at;
    - every second of that video is worth 1 / (1 + spans picked there) ** `VIDEO_DECAY` of its value,
      so all videos get spans;

    and the span's samples, with one sample on each side, leave the pool (spans never touch). When the
    budget left is shorter than a span, it lengthens spans instead (best first, one sample on the side of
    the better free neighbour, up to 6 s). Span starts lie on the sampling grid; a span covers
    [first sample, last sample + one sampling interval), and never past the end of its video.

    Returns
    -------
    list of Span, best first: by mean worth of its samples when it was picked.
    """
    state = [{"c": v, "lengths": span_lengths(v.step_s), "free": v.available.copy(), "factor": np.ones(len(v.value)),
              "n_picked": 0} for v in videos]
    picked: list[tuple[Span, dict]] = []
    left_s = float(budget_s)
    while True:
        best = None
        for s in state:
            c = s["c"]
            n = s["lengths"][0]
            if n * c.step_s > left_s + _TOL_S or len(c.value) < n:
                continue
            worth = c.value * s["factor"] / (1.0 + s["n_picked"]) ** VIDEO_DECAY
            sums = _window_sums(np.where(s["free"], worth, np.nan), n)
            if not np.isfinite(sums).any():
                continue
            i = int(np.nanargmax(sums))
            if best is None or sums[i] / n > best[0]:
                best = (sums[i] / n, s, i, n)
        if best is None:
            break
        value, s, i, n = best
        c = s["c"]
        span = Span(c.video_id, float(c.sample_s[i]), min(float(c.sample_s[i]) + n * c.step_s, c.duration_s), i, i + n - 1,
                    float(value))
        picked.append((span, s))
        left_s -= span.duration_s
        _spread(s, span)
    picked = _lengthen(picked, left_s)
    return sorted((span for span, _ in picked), key=lambda span: -span.value)


def _lengthen(picked: list, left_s: float) -> list:
    """Spend a budget left over (shorter than a new span) on lengthening spans, best first, to the next allowed length."""
    picked = sorted(picked, key=lambda p: -p[0].value)
    for k, (span, s) in enumerate(picked):
        c = s["c"]
        n = span.last - span.first + 1
        longer = [m for m in s["lengths"] if m > n and (m - n) * c.step_s <= left_s + _TOL_S]
        if not longer:
            continue
        free = c.available.copy()
        for other, t in picked:  # never onto or next to another span of the same video
            if t is s and other is not span:
                free[max(0, other.first - 1):other.last + 2] = False
        first, last = span.first, span.last
        while last - first + 1 < longer[0]:
            options = [j for j in (first - 1, last + 1) if 0 <= j < len(free) and free[j]]
            if not options:
                break
            j = max(options, key=lambda i: c.value[i])
            first, last = min(first, j), max(last, j)
        if last - first + 1 == longer[0]:
            left_s -= (longer[0] - n) * c.step_s
            start_s = float(c.sample_s[first])
            picked[k] = (Span(span.video_id, start_s, min(start_s + longer[0] * c.step_s, c.duration_s), first, last,
                              span.value), s)
    return picked


def _window_sums(x: np.ndarray, n: int) -> np.ndarray:
    """Sum of each window of `n` consecutive values (NaN if any is NaN), one per start: shape (len(x) - n + 1,)."""
    if len(x) < n:
        return np.array([])
    filled = np.nan_to_num(x, nan=0.0)
    bad = np.isnan(x).astype(int)
    total = np.convolve(filled, np.ones(n), mode="valid")
    n_bad = np.convolve(bad, np.ones(n, dtype=int), mode="valid")
    return np.where(n_bad == 0, total, np.nan)


def _spread(s: dict, span: Span) -> None:
    """Make what is near `span` worth less (see `pick_spans`) and take its samples out of the pool."""
    c = s["c"]
    s["n_picked"] += 1
    inside = slice(span.first, span.last + 1)
    scene_ids = np.unique(c.scene[inside])
    s["factor"][np.isin(c.scene, scene_ids)] *= SAME_SCENE
    values, counts = np.unique(c.guess[inside], return_counts=True)
    s["factor"][c.guess == values[np.argmax(counts)]] *= SAME_GUESS
    s["free"][max(0, span.first - 1):span.last + 2] = False
