"""Few labels, still a model (issue 20): folds that fit the labelled time, found by shrinking what is tried.

With a short labelled clip (the time blocks of one video) the defaults cannot split it: five time blocks, each kept `gap_s` (widened to the
widest context window) from the training frames, leave a fold training on one class or on nothing. Instead of
stopping, compare-models tries, in this order, until the folds work: dropping the widest context windows (a
window the clip cannot hold has nothing to learn from), a smaller gap (halved, never below the widest window
kept nor two sampling intervals, so no training frame's context reaches a test block and neighbouring frames
stay apart), and fewer folds (down to 2). What it changed is said in one warning; when nothing works, the
error names every option that would help.
"""

from __future__ import annotations

import warnings

import numpy as np

from featurestore.errors import TooFewSamples

from .cv import CVPlan, plan_folds


def plan_folds_that_fit(video_ids, requested_s, targets, step_s, *, n_splits: int, split: str, gap_s: float,
                        contexts: tuple[float, ...], allow_leaky_split: bool, random_state: int, classes=None,
                        none_label: str = "neither") -> tuple[CVPlan, tuple[float, ...]]:
    """`plan_folds` with the gap at least the widest window; shrunk as the module says when that cannot split.

    Parameters
    ----------
    step_s : ndarray of shape (n_frames,), seconds between samples of each frame's video
    contexts : context windows (seconds, 0 first) to try

    Returns
    -------
    (plan, contexts): the folds, and the windows they leave room for (the first, 0, always).

    Warns
    -----
    UserWarning
        Saying what was shrunk, from what to what, and the options that set each.

    Raises
    ------
    TooFewSamples
        When no smaller setting splits either; naming every option that would help.
    """
    kwargs = dict(split=split, allow_leaky_split=allow_leaky_split, random_state=random_state, classes=classes,
                  none_label=none_label)
    try:
        return plan_folds(video_ids, requested_s, targets, n_splits=n_splits, gap_s=max(gap_s, *contexts), **kwargs), contexts
    except TooFewSamples as err:
        first = err
    if not (split == "blocks" or (split == "auto" and len(np.unique(video_ids)) == 1)):
        raise first  # whole videos as folds: not a matter of labelled time, and the message says what to change
    floor_s = 2.0 * float(np.max(step_s)) if len(step_s) else 0.0
    for kept in (contexts[:i] for i in range(len(contexts), 0, -1)):
        for gap in _gaps(max(gap_s, *kept), max(*kept, floor_s)):
            for folds in range(n_splits, 1, -1):
                try:
                    plan = plan_folds(video_ids, requested_s, targets, n_splits=folds, gap_s=gap, **kwargs)
                except TooFewSamples:
                    continue
                _say(video_ids, requested_s, step_s, contexts, kept, max(gap_s, *contexts), gap, n_splits, plan)
                return plan, kept
    raise TooFewSamples(f"{first}; no smaller setting splits either (tried context windows down to 0 s, a gap down to "
                        f"{max(contexts[0], floor_s):g} s and 2 folds): label more frames of every class, or choose "
                        "--folds, --gap-s, --context-s or --split yourself") from None


def _gaps(start_s: float, floor_s: float) -> list[float]:
    """`start_s`, then halved down to `floor_s` (which comes last)."""
    gaps, gap = [start_s], start_s / 2
    while gap > floor_s + 1e-9:
        gaps.append(gap)
        gap /= 2
    return gaps + ([floor_s] if floor_s < start_s - 1e-9 else [])


def _say(video_ids, requested_s, step_s, asked, kept, gap_asked, gap, folds_asked, plan: CVPlan) -> None:
    videos = np.unique(video_ids)
    labelled_s = sum(float(np.sum(step_s[video_ids == v])) for v in videos)
    changed = []
    if len(kept) < len(asked):
        changed.append(f"context windows of {', '.join(f'{k:g}' for k in kept)} s only (--context-s; "
                       f"{', '.join(f'{k:g}' for k in asked[len(kept):])} s do not fit)")
    if plan.scheme == "blocks" and gap < gap_asked - 1e-9:
        changed.append(f"a gap of {gap:g} s between training and test blocks (--gap-s; {gap_asked:g} s asked)")
    if plan.n_splits < folds_asked:
        changed.append(f"{plan.n_splits} folds (--folds; {folds_asked} asked)")
    warnings.warn(f"only {labelled_s:.1f} s labelled in {len(videos)} video{'s' if len(videos) != 1 else ''}, too little "
                  f"for the default folds: compare-models tried {'; '.join(changed)}; label more frames of every class "
                  "for scores you can trust", stacklevel=3)
