"""Cross-validation folds that do not leak neighbouring frames between training and test.

Neighbouring frames of a video are nearly identical, so a shuffled split scores a model on frames it
has practically seen (the tutorial: 85-88% there, 64% on a new episode). Even time blocks inside a video
test on the same episode, room and lighting the model trained on, and reward what does not carry over
to a new episode (issue 7). So folds are whole videos whenever two or more videos are labelled:

- ``grouped``: whole videos are held out (StratifiedGroupKFold), needs >= n_splits labelled videos.
- ``leave-one-video-out``: each labelled video is the test set once (2 .. n_splits - 1 videos).
- ``blocks``: each video is cut into n_splits contiguous blocks of labelled frames; fold k tests on
  block k of every video and drops training frames within `gap_s` seconds of it. It estimates
  accuracy on new stretches of the same video(s), not on new videos.
- ``shuffled``: StratifiedKFold over frames; leaks, refused unless explicitly allowed.

``auto`` picks ``grouped`` with >= n_splits labelled videos, ``leave-one-video-out`` with 2 or more,
and ``blocks`` for a single video.

Multi-label targets (one column per character, issue 11) follow the same rules: folds are stratified on
each frame's set of characters, and the checks and warnings are per character.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import warnings

import numpy as np
import pandas as pd
from sklearn.model_selection import LeaveOneGroupOut, StratifiedGroupKFold, StratifiedKFold

from classifiers.choices import SPLITS
from featurestore.errors import InvalidParameter, LeakySplitRefused, TooFewSamples

SCHEME_TEXT = {
    "grouped": "grouped by video (StratifiedGroupKFold): every test video is unseen in training",
    "leave-one-video-out": "leave one video out: each labelled video is tested by a model trained on the others",
    "blocks": "contiguous time blocks per video, training frames within {gap_s:g} s of a test block dropped",
    "shuffled": "shuffled frames (StratifiedKFold): LEAKY, neighbouring frames on both sides; scores are optimistic",
}


@dataclass
class CVPlan:
    """Folds chosen for one comparison; every model is scored on exactly these.

    Attributes
    ----------
    scheme : {"grouped", "blocks", "shuffled"}
    folds : list of (train_idx, test_idx)
        Integer index arrays into the labelled frames.
    summary : DataFrame
        One row per fold: frames, videos and class counts of train and test, frames dropped by the gap.
    """

    scheme: str
    n_splits: int
    gap_s: float
    random_state: int
    folds: list[tuple[np.ndarray, np.ndarray]] = field(repr=False)
    summary: pd.DataFrame = field(repr=False)

    @property
    def description(self) -> str:
        """One line saying which scheme was used and why it can be trusted (or not)."""
        return f"{self.n_splits}-fold CV, " + SCHEME_TEXT[self.scheme].format(gap_s=self.gap_s)

    @property
    def holds_out_videos(self) -> bool:
        """True when every test video is unseen in training, as a new episode would be."""
        return self.scheme in ("grouped", "leave-one-video-out")

    @property
    def caveat(self) -> str:
        """One line when the scores do not estimate accuracy on new videos ('' when they do)."""
        if self.scheme == "blocks":
            return ("note: these scores are for unseen stretches of the same video(s), not for new videos; "
                    "label a second video for an estimate that carries over to new episodes")
        if self.scheme == "shuffled":
            return "note: a shuffled split tests on neighbours of training frames; these scores are optimistic"
        return ""

    def to_dict(self) -> dict:
        """JSON-able description (scheme, parameters, per-fold counts) for the saved model and reports."""
        return {
            "scheme": self.scheme, "n_splits": self.n_splits, "gap_s": self.gap_s, "random_state": self.random_state,
            "description": self.description, "caveat": self.caveat, "folds": self.summary.to_dict(orient="records"),
        }


def plan_folds(
    video_ids: np.ndarray,
    requested_s: np.ndarray,
    y: np.ndarray,
    *,
    n_splits: int = 5,
    split: str = "auto",
    gap_s: float = 5.0,
    allow_leaky_split: bool = False,
    random_state: int = 0,
    classes: list[str] | None = None,
    none_label: str = "neither",
) -> CVPlan:
    """Choose cross-validation folds over labelled frames.

    Parameters
    ----------
    video_ids : ndarray of shape (n_frames,), str
    requested_s : ndarray of shape (n_frames,), float
        Time of each frame in its video, seconds.
    y : ndarray of shape (n_frames,), str, or of shape (n_frames, n_characters), 0/1
        Labels; or, multi-label, which characters are on screen (columns named by `classes`).
    n_splits : int
        Number of folds (>= 2); leave-one-video-out has one fold per video instead.
    split : {"auto", "grouped", "leave-one-video-out", "blocks", "shuffled"}
        "auto": grouped with >= n_splits labelled videos, leave-one-video-out with 2 or more, else blocks.
    gap_s : float
        For "blocks": training frames within this many seconds of a test block are dropped.
    allow_leaky_split : bool
        Must be True for "shuffled".
    random_state : int
        Seed of the grouped and shuffled splitters.
    classes : list of str, optional
        Multi-label: the characters, one per column of `y`.
    none_label : str
        Multi-label: what the summary calls frames with no character on screen.

    Warns
    -----
    UserWarning
        When a fold has no test frames, or no training frames, of a class (its recall there means nothing).

    Raises
    ------
    TooFewSamples
        A class has fewer frames than folds, too few videos for "grouped" or "leave-one-video-out", or a
        fold would train on one class.
    LeakySplitRefused
        "shuffled" asked for without `allow_leaky_split`.
    """
    video_ids, requested_s, y = np.asarray(video_ids), np.asarray(requested_s, dtype=np.float64), np.asarray(y)
    masks, y, word = _label_masks(y, classes, none_label)  # y: one stratification key per frame from here on
    if split not in SPLITS:
        raise InvalidParameter("split", f"must be one of {', '.join(SPLITS)}, got {split!r}")
    if n_splits < 2:
        raise InvalidParameter("n_splits", f"must be >= 2, got {n_splits}")
    if gap_s < 0:
        raise InvalidParameter("gap_s", f"must be >= 0 seconds, got {gap_s}")
    n_videos = len(np.unique(video_ids))
    scheme = split if split != "auto" else (
        "grouped" if n_videos >= n_splits else "leave-one-video-out" if n_videos >= 2 else "blocks")
    for c, mask in masks.items():
        n = int(mask.sum())
        if n < n_splits and scheme != "leave-one-video-out":
            raise TooFewSamples(
                f"{word} {str(c)!r} has {n} labelled frames, fewer than {n_splits} folds; "
                f"label more frames of it, lower --folds to {max(2, n)} or remove its rows from the labels"
            )
    if scheme == "shuffled" and not allow_leaky_split:
        raise LeakySplitRefused(
            "a shuffled split puts neighbouring, nearly identical frames in training and test and overstates accuracy; "
            "add --allow-leaky-split to run it anyway, or use --split auto"
        )
    if scheme == "grouped" and n_videos < n_splits:
        raise TooFewSamples(
            f"only {n_videos} labelled videos, fewer than {n_splits} folds grouped by video; "
            f"use --folds {n_videos} (if >= 2), --split leave-one-video-out, or label more videos"
        )
    if scheme == "leave-one-video-out" and n_videos < 2:
        raise TooFewSamples(
            f"only {n_videos} labelled video, leave-one-video-out needs 2; label a second video or use --split blocks"
        )
    if scheme == "leave-one-video-out":
        folds = [(tr, te) for tr, te in LeaveOneGroupOut().split(np.zeros(len(y)), y, groups=video_ids)]
        n_splits = len(folds)
        dropped = [0] * n_splits
    elif scheme == "grouped":
        splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
        folds = [(tr, te) for tr, te in splitter.split(np.zeros(len(y)), y, groups=video_ids)]
        dropped = [0] * n_splits
    elif scheme == "shuffled":
        splitter = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
        folds = [(tr, te) for tr, te in splitter.split(np.zeros(len(y)), y)]
        dropped = [0] * n_splits
    else:
        folds, dropped = _time_blocks(video_ids, requested_s, n_splits, gap_s)
    for k, (train, test) in enumerate(folds):
        if len(np.unique(y[train])) < 2 or len(test) == 0:
            raise TooFewSamples(
                f"fold {k + 1} of the {scheme} split would train on one class only or test on nothing; "
                "label more frames of every class across the video, lower --folds or --gap-s"
            )
    _warn_missing_classes(folds, video_ids, masks, word)
    summary = _summarise(folds, dropped, video_ids, masks, none_mask=(y == none_label) if word == "character" else None,
                         none_label=none_label)
    return CVPlan(scheme, n_splits, float(gap_s), random_state, folds, summary)


def _label_masks(y: np.ndarray, classes, none_label: str) -> tuple[dict, np.ndarray, str]:
    """(name -> frames of that class or character, one stratification key per frame, 'class' or 'character')."""
    if y.ndim == 1:
        return {str(c): y == c for c in np.unique(y)}, y, "class"
    if classes is None or len(classes) != y.shape[1]:
        raise ValueError(f"a 2-D y needs one name per column in classes, got {classes!r} for {y.shape[1]} columns")
    on = y.astype(bool)
    masks = {str(c): on[:, j] for j, c in enumerate(classes)}
    names = np.asarray(classes, dtype=object)
    keys = np.array(["+".join(names[row]) or none_label for row in on], dtype=object)
    return masks, keys, "character"


def _warn_missing_classes(folds, video_ids: np.ndarray, masks: dict, word: str = "class") -> None:
    """One warning per class that some fold does not test, and one per class that some fold cannot learn (issue 9)."""
    for c, mask in masks.items():
        untested = [k for k, (_, test) in enumerate(folds, start=1) if not np.any(mask[test])]
        unlearnt = [k for k, (train, test) in enumerate(folds, start=1) if not np.any(mask[train]) and np.any(mask[test])]
        if untested:
            warnings.warn(
                f"{word} {str(c)!r} has no test frames in {_fold_list(untested, folds, video_ids)}: "
                f"{'that fold says' if len(untested) == 1 else 'those folds say'} nothing about it, "
                "its recall and screen-time error come from the other folds",
                stacklevel=3)
        if unlearnt:
            warnings.warn(
                f"{word} {str(c)!r} has no training frames in {_fold_list(unlearnt, folds, video_ids)}: "
                "the model there cannot predict it, so its test frames there all count as misses (recall 0); "
                "label it in more videos",
                stacklevel=3)


def _fold_list(ks: list[int], folds, video_ids: np.ndarray) -> str:
    """'fold 2 of 4 (test: ep3.mp4)', 'folds 1, 4 of 4 (test: a.mp4; d.mp4)'."""
    tests = list(dict.fromkeys("+".join(sorted(np.unique(video_ids[folds[k - 1][1]]).tolist())) for k in ks))
    return f"fold{'s' if len(ks) > 1 else ''} {', '.join(map(str, ks))} of {len(folds)} (test: {'; '.join(tests)})"
def _time_blocks(video_ids: np.ndarray, requested_s: np.ndarray, n_splits: int, gap_s: float):
    """Fold k tests block k of every video; training frames of that video within gap_s of it are dropped."""
    n = len(video_ids)
    test_masks = [np.zeros(n, dtype=bool) for _ in range(n_splits)]
    train_masks = [np.ones(n, dtype=bool) for _ in range(n_splits)]
    for video in np.unique(video_ids):
        idx = np.flatnonzero(video_ids == video)
        idx = idx[np.argsort(requested_s[idx], kind="stable")]
        for k, block in enumerate(np.array_split(idx, n_splits)):
            if block.size == 0:
                continue
            start_s, end_s = requested_s[block[0]], requested_s[block[-1]]
            near = (requested_s[idx] >= start_s - gap_s) & (requested_s[idx] <= end_s + gap_s)
            train_masks[k][idx[near]] = False
            test_masks[k][block] = True
    folds, dropped = [], []
    for train, test in zip(train_masks, test_masks):
        folds.append((np.flatnonzero(train), np.flatnonzero(test)))
        dropped.append(int(n - train.sum() - test.sum()))
    return folds, dropped


def _summarise(folds, dropped, video_ids, masks: dict, none_mask=None, none_label: str = "neither") -> pd.DataFrame:
    rows = []
    for k, ((train, test), n_dropped) in enumerate(zip(folds, dropped), start=1):
        row = {
            "fold": k, "train_frames": len(train), "test_frames": len(test),
            "train_videos": len(np.unique(video_ids[train])), "test_videos": len(np.unique(video_ids[test])),
            "gap_dropped_frames": n_dropped,
        }
        for c, mask in masks.items():
            row[f"test_n_{c}"] = int(np.sum(mask[test]))
        if none_mask is not None:  # multi-label: frames with no character on screen
            row[f"test_n_{none_label}"] = int(np.sum(none_mask[test]))
        rows.append(row)
    return pd.DataFrame(rows)
