"""Multi-label screen time (issue 11): each character's probability per sample -> who is on screen when.

A character is on screen at a sample where its smoothed probability reaches its threshold. Each sample
stands for its sampling interval, as in `classifiers.chain.timeline`, so every character's seconds are exact
sums of intervals; they may add up to more than the video (characters share the screen). Time together
(two or more characters on screen) and time with no character are counted the same way, and each
character has its own segments, which may overlap another's.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .decision import on_screen
from .timeline import Segment, VideoScreenTime, appearances, as_proba, runs, sample_bounds_s


def summarize_presence(
    video_id: str,
    requested_s: np.ndarray,
    proba: np.ndarray,
    classes: Sequence[str],
    thresholds: np.ndarray,
    duration_s: float,
    sample_fps: float,
    *,
    none_label: str = "neither",
    actual_s: np.ndarray | None = None,
) -> VideoScreenTime:
    """Screen time per character of one video from its (already smoothed) per-character probabilities.

    Parameters
    ----------
    video_id : str
    requested_s : ndarray of shape (n_samples,)
        Strictly increasing sample times, in seconds.
    proba : ndarray of shape (n_samples, n_characters)
        Probability that each character is on screen (rows need not sum to 1).
    classes : sequence of str, length n_characters
        The characters, in column order.
    thresholds : ndarray of shape (n_characters,)
        A character is on screen where its probability is at least its threshold.
    duration_s : float
        Length of the video, in seconds.
    sample_fps : float
        Sampling rate, in samples per second.
    none_label : str
        Name of "no character on screen".
    actual_s : ndarray of shape (n_samples,), optional
        Presentation time of the frame each sample used, in seconds.

    Returns
    -------
    VideoScreenTime with ``multi_label=True``: `screen_time_s`, `share`, `n_appearances`, `first_s`, `last_s`
    per character; `together_s`, `none_s`; `on_screen`; per-character `segments` in order of start.
    """
    classes = [str(c) for c in classes]
    bounds = sample_bounds_s(requested_s, duration_s, sample_fps)
    n_samples = len(bounds) - 1
    proba = as_proba(proba, n_samples, len(classes))
    thresholds = np.asarray(thresholds, dtype=np.float64)
    if thresholds.shape != (len(classes),):
        raise ValueError(f"thresholds must have shape ({len(classes)},), got {thresholds.shape}")
    on = on_screen(proba, thresholds)
    return VideoScreenTime(
        video_id=str(video_id), duration_s=float(duration_s), sample_fps=float(sample_fps), classes=classes,
        sample_s=np.asarray(requested_s, dtype=np.float64), proba=proba,
        actual_s=None if actual_s is None else np.asarray(actual_s, dtype=np.float64), none_label=none_label,
        **presence_fields(bounds, on, proba, classes),
    )


def presence_fields(bounds: np.ndarray, on: np.ndarray, proba: np.ndarray, classes: list[str]) -> dict:
    """The `VideoScreenTime` fields (``multi_label=True``) that who is on screen when gives.

    `bounds` (n + 1,) seconds (`timeline.sample_bounds_s`); `on` (n, k) bool, each class on screen at each sample;
    `proba` (n, k), each class's shown probability (a segment's confidence is its mean over the segment). Returns
    `labels`, `sample_duration_s`, `screen_time_s`, `share`, `n_appearances`, `first_s`, `last_s`, `segments` (in
    order of start, then of `classes`), `on_screen`, `together_s` (two classes or more), `none_s` (none).
    """
    durations = np.diff(bounds)
    n_samples = len(durations)
    total_s = float(durations.sum())
    seconds = durations @ on if n_samples else np.zeros(len(classes))
    n_on = on.sum(axis=1)
    segments = sorted((seg for j, c in enumerate(classes) for seg in character_runs(bounds, on[:, j], proba[:, j], c)),
                      key=lambda seg: (seg.start_s, classes.index(seg.label)))
    n_appearances, first_s, last_s = appearances(segments, classes)
    names = np.asarray(classes, dtype=object)
    labels = np.empty(n_samples, dtype=object)
    labels[:] = [tuple(names[row]) for row in on]
    return dict(
        labels=labels, sample_duration_s=durations, screen_time_s={c: float(s) for c, s in zip(classes, seconds)},
        share={c: (float(s) / total_s if total_s > 0 else 0.0) for c, s in zip(classes, seconds)},
        n_appearances=n_appearances, first_s=first_s, last_s=last_s, segments=segments, multi_label=True,
        on_screen=on, together_s=float(durations @ (n_on >= 2)) if n_samples else 0.0,
        none_s=float(durations @ (n_on == 0)) if n_samples else 0.0,
    )


def character_runs(bounds: np.ndarray, on: np.ndarray, p: np.ndarray, label: str) -> list[Segment]:
    """Segments of one character: maximal runs of samples where it is on screen (`on`, shape (n,)); confidence = the
    mean of its probability `p` over the run; `bounds` of shape (n + 1,), seconds (`timeline.sample_bounds_s`)."""
    both = np.column_stack([1.0 - p, p])
    return [seg for seg in runs(bounds, on.astype(np.intp), both, ["", label]) if seg.label == label]
