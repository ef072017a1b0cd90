"""Screen-time arithmetic: sampled frames -> seconds per class, segments and per-video summaries.

Each sampled frame stands for its sampling interval [t_k, t_{k+1}); the last one for what is left of
the video. Totals therefore add up to the video's duration and do not depend on the sampling rate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

from .decision import on_screen


@dataclass(frozen=True)
class Segment:
    """A maximal run of consecutive samples with the same label.

    Attributes
    ----------
    start_s, end_s : float
        Start and end of the run's sampling intervals, in seconds from the start of the video.
    label : str
    confidence : float
        Mean probability of `label` over the run's samples, in [0, 1].
    """

    start_s: float
    end_s: float
    label: str
    confidence: float

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass
class VideoScreenTime:
    """Screen time of every class in one video.

    Attributes
    ----------
    video_id : str
    duration_s : float
        Length of the video, in seconds.
    sample_fps : float
        Sampling rate, in samples per second.
    classes : list of str, length n_classes
        Column order of `proba`.
    sample_s : ndarray of shape (n_samples,), float64
        Requested time of each sample (the sampling grid k / sample_fps), in seconds.
    labels : ndarray of shape (n_samples,), object (str)
        Chosen label of each sample (the likeliest class, `classifiers.chain.decision.on_screen`).
    proba : ndarray of shape (n_samples, n_classes), float64
        Smoothed probabilities the labels were chosen from.
    sample_duration_s : ndarray of shape (n_samples,), float64
        Seconds of video each sample stands for.
    screen_time_s : dict of str to float
        Seconds on screen per class (every class, zeros included).
    share : dict of str to float
        Fraction of the video per class; sums to 1 when the video has samples.
    n_appearances : dict of str to int
        Number of segments per class.
    first_s, last_s : dict of str to float or None
        Start of the first and end of the last segment per class, in seconds; None if never seen.
    segments : list of Segment
    actual_s : ndarray of shape (n_samples,), float64, or None
        Presentation time of the frame each sample used, in seconds (what `FeatureStore.load` returns);
        None when not known.
    screen_time_interval_s : dict of str to (float, float), or None
        Interval on each class's screen time, in seconds, at `interval_level`; None when the model
        cannot give one (see `classifiers.chain.intervals`).
    interval_level : float or None
        Share of videos whose true screen time the intervals are meant to contain.
    multi_label : bool
        Characters, not classes (issue 11; `classifiers.chain.presence`): `classes` are the characters, `proba`
        holds each one's probability of being on screen (rows need not sum to 1), `labels` holds each
        sample's tuple of characters on screen, `screen_time_s` may add up to more than the duration, and
        `segments` of different characters may overlap.
    on_screen : ndarray of shape (n_samples, n_classes), bool, or None
        Multi-label: which characters are on screen at each sample.
    together_s, none_s : float or None
        Multi-label: seconds with two or more characters on screen, and with none.
    none_label : str or None
        Multi-label: the name of "no character on screen" (`--none-label`).
    training_distance : float or None
        How far the video's samples are from the training samples (`classifiers.chain.familiarity`), in
        units of the training samples' spread; None when the model keeps no reference.
    unlike_training : bool or None
        The distance is beyond what cross-validation saw for held-out videos; None when the model cannot tell.
    raw_training_distance : float or None
        The same for the features as embedded, before the per-video stages (issue 26); None without that reference.
    """

    video_id: str
    duration_s: float
    sample_fps: float
    classes: list[str]
    sample_s: np.ndarray
    labels: np.ndarray
    proba: np.ndarray
    sample_duration_s: np.ndarray
    screen_time_s: dict[str, float]
    share: dict[str, float]
    n_appearances: dict[str, int]
    first_s: dict[str, float | None]
    last_s: dict[str, float | None]
    segments: list[Segment] = field(default_factory=list)
    actual_s: np.ndarray | None = None
    screen_time_interval_s: dict[str, tuple[float, float]] | None = None
    interval_level: float | None = None
    multi_label: bool = False
    on_screen: np.ndarray | None = None
    together_s: float | None = None
    none_s: float | None = None
    none_label: str | None = None
    training_distance: float | None = None
    unlike_training: bool | None = None
    raw_training_distance: float | None = None

    @property
    def samples(self) -> list[tuple[float, str, np.ndarray]]:
        """(time in seconds, label, probabilities of shape (n_classes,)) per sample."""
        return list(zip(self.sample_s.tolist(), self.labels.tolist(), self.proba))


def sample_durations_s(requested_s: np.ndarray, duration_s: float, sample_fps: float) -> np.ndarray:
    """Seconds of video each sampled frame stands for.

    Sample k covers [t_k, t_{k+1}); the last one covers [t_last, duration_s), never less than 0 s; the
    first one also covers [0, t_0) if sampling did not start at 0. If `duration_s` is not finite, the last
    sample covers one sampling interval, 1 / `sample_fps`.

    Parameters
    ----------
    requested_s : ndarray of shape (n_samples,)
        Strictly increasing sample times, in seconds.
    duration_s : float
        Length of the video, in seconds.
    sample_fps : float
        Sampling rate, in samples per second.

    Returns
    -------
    ndarray of shape (n_samples,), float64
        Sums to `duration_s` whenever the last sample lies inside the video.
    """
    bounds = sample_bounds_s(requested_s, duration_s, sample_fps)
    return np.diff(bounds)


def segments_from_labels(
    requested_s: np.ndarray,
    labels: Sequence[str] | np.ndarray,
    proba: np.ndarray,
    classes: Sequence[str],
    duration_s: float,
    sample_fps: float,
) -> list[Segment]:
    """Group consecutive samples with the same label into segments.

    Parameters
    ----------
    requested_s : ndarray of shape (n_samples,)
        Strictly increasing sample times, in seconds.
    labels : array-like of shape (n_samples,), str
        Label of each sample; each must be one of `classes`.
    proba : ndarray of shape (n_samples, n_classes)
        Class probabilities, columns in the order of `classes`.
    classes : sequence of str, length n_classes
    duration_s : float
        Length of the video, in seconds.
    sample_fps : float
        Sampling rate, in samples per second.

    Returns
    -------
    list of Segment
        In time order; segments of zero length (a last sample at or after the end) are dropped.
    """
    classes = [str(c) for c in classes]
    labels = np.asarray(labels).astype(str)
    uniq, inverse = np.unique(labels, return_inverse=True)
    lookup = {c: i for i, c in enumerate(classes)}
    unknown = [u for u in uniq.tolist() if u not in lookup]
    if unknown:
        raise ValueError(f"labels {unknown} are not among classes {classes}")
    label_idx = np.array([lookup[u] for u in uniq.tolist()], dtype=np.intp)[inverse.ravel()]
    bounds = sample_bounds_s(requested_s, duration_s, sample_fps)
    return runs(bounds, label_idx, as_proba(proba, len(label_idx), len(classes)), classes)


def summarize_video(
    video_id: str,
    requested_s: np.ndarray,
    proba: np.ndarray,
    classes: Sequence[str],
    duration_s: float,
    sample_fps: float,
    actual_s: np.ndarray | None = None,
) -> VideoScreenTime:
    """Screen time per class of one video from its (already smoothed) per-sample probabilities.

    Parameters
    ----------
    video_id : str
    requested_s : ndarray of shape (n_samples,)
        Strictly increasing sample times, in seconds.
    proba : ndarray of shape (n_samples, n_classes)
        Smoothed class probabilities; the label of a sample is its likeliest class (`decision.on_screen`).
    classes : sequence of str, length n_classes
        Column order of `proba` (a fitted model's `classes_`).
    duration_s : float
        Length of the video, in seconds.
    sample_fps : float
        Sampling rate, in samples per second.
    actual_s : ndarray of shape (n_samples,), optional
        Presentation time of the frame each sample used, in seconds; kept alongside `requested_s`.

    Returns
    -------
    VideoScreenTime
    """
    classes = [str(c) for c in classes]
    bounds = sample_bounds_s(requested_s, duration_s, sample_fps)
    n_samples = len(bounds) - 1
    proba = as_proba(proba, n_samples, len(classes))
    label_idx = on_screen(proba).argmax(axis=1) if n_samples else np.zeros(0, dtype=np.intp)
    durations = np.diff(bounds)
    seconds = np.bincount(label_idx, weights=durations, minlength=len(classes))
    total_s = float(durations.sum())
    segments = runs(bounds, label_idx, proba, classes)
    n_appearances, first_s, last_s = appearances(segments, classes)

    return VideoScreenTime(
        video_id=str(video_id),
        duration_s=float(duration_s),
        sample_fps=float(sample_fps),
        classes=classes,
        sample_s=np.asarray(requested_s, dtype=np.float64),
        labels=np.asarray(classes, dtype=object)[label_idx],
        proba=proba,
        sample_duration_s=durations,
        screen_time_s={c: float(s) for c, s in zip(classes, seconds)},
        share={c: (float(s) / total_s if total_s > 0 else 0.0) for c, s in zip(classes, seconds)},
        n_appearances=n_appearances,
        first_s=first_s,
        last_s=last_s,
        segments=segments,
        actual_s=None if actual_s is None else np.asarray(actual_s, dtype=np.float64),
    )


def total_screen_time(results: Iterable[VideoScreenTime]) -> dict[str, float]:
    """Seconds on screen per class summed over videos; classes in order of first appearance."""
    total: dict[str, float] = {}
    for result in results:
        for label, seconds in result.screen_time_s.items():
            total[label] = total.get(label, 0.0) + seconds
    return total


def total_interval(results: Sequence[VideoScreenTime]) -> dict[str, tuple[float, float]] | None:
    """Per class, the sum of the videos' interval bounds (seconds): a range for the total that holds when every
    video's does (errors of one model on several videos tend to go the same way, so no narrowing by sqrt(n));
    None when a video has no interval."""
    if not results or any(r.screen_time_interval_s is None for r in results):
        return None
    total: dict[str, tuple[float, float]] = {}
    for result in results:
        for label, (lo, hi) in result.screen_time_interval_s.items():
            a, b = total.get(label, (0.0, 0.0))
            total[label] = (a + lo, b + hi)
    return total


def appearances(segments: Sequence[Segment], classes: Sequence[str]) -> tuple[dict, dict, dict]:
    """(n_appearances, first_s, last_s) per class from its segments: their number, the first start, the last end."""
    n_appearances = {c: 0 for c in classes}
    first_s: dict[str, float | None] = {c: None for c in classes}
    last_s: dict[str, float | None] = {c: None for c in classes}
    for seg in segments:
        n_appearances[seg.label] += 1
        first_s[seg.label] = seg.start_s if first_s[seg.label] is None else min(first_s[seg.label], seg.start_s)
        last_s[seg.label] = seg.end_s if last_s[seg.label] is None else max(last_s[seg.label], seg.end_s)
    return n_appearances, first_s, last_s


def sample_bounds_s(requested_s: np.ndarray, duration_s: float, sample_fps: float) -> np.ndarray:
    """Interval boundaries, shape (n_samples + 1,): sample k covers [bounds[k], bounds[k + 1])."""
    requested_s = np.asarray(requested_s, dtype=np.float64)
    if requested_s.ndim != 1:
        raise ValueError(f"requested_s must be 1-D, got shape {requested_s.shape}")
    if not sample_fps > 0:
        raise ValueError(f"sample_fps must be > 0, got {sample_fps}")
    if len(requested_s) == 0:
        return np.zeros(1)
    if not np.all(np.isfinite(requested_s)) or np.any(np.diff(requested_s) <= 0):
        raise ValueError("requested_s must be finite and strictly increasing")
    last_end = float(duration_s) if np.isfinite(duration_s) else requested_s[-1] + 1.0 / sample_fps
    bounds = np.empty(len(requested_s) + 1)
    bounds[:-1] = requested_s
    bounds[0] = min(0.0, requested_s[0])
    bounds[-1] = max(last_end, requested_s[-1])
    return bounds


def as_proba(proba: np.ndarray, n_samples: int, n_classes: int) -> np.ndarray:
    proba = np.asarray(proba, dtype=np.float64)
    if proba.shape != (n_samples, n_classes):
        raise ValueError(f"proba must have shape ({n_samples}, {n_classes}), got {proba.shape}")
    return proba


def runs(bounds: np.ndarray, label_idx: np.ndarray, proba: np.ndarray, classes: list[str]) -> list[Segment]:
    """Segments of maximal runs of equal `label_idx` (into `classes`), confidence the mean probability of the label;
    `bounds` of shape (n + 1,) from `sample_bounds_s`. Runs of zero length are dropped."""
    if len(label_idx) == 0:
        return []
    starts = np.flatnonzero(np.r_[True, label_idx[1:] != label_idx[:-1]])
    ends = np.r_[starts[1:], len(label_idx)]
    run_label = label_idx[starts]
    own_p = proba[np.arange(len(label_idx)), label_idx]
    confidence = np.add.reduceat(own_p, starts) / (ends - starts)
    start_s, end_s = bounds[starts], bounds[ends]
    keep = end_s > start_s
    return [
        Segment(float(s), float(e), classes[i], float(c))
        for s, e, i, c in zip(start_s[keep], end_s[keep], run_label[keep], confidence[keep])
    ]
