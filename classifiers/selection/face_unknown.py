"""The unknown threshold of a face model, chosen by cross-validation on faces whose actor was held out (issue 24).

A face of someone nobody labelled must not count as cast. Inside each training fold (and, for the saved model,
over all labelled faces) every actor is held out once: a model is fitted on the fold's training faces without that
actor's, and without the faces of a group of training videos (whole videos, or the second half of a single one),
and predicts those videos' faces through the face model's own chain (`FaceModel.face_proba`, smoothing included).
The held-out actor's faces there, and the faces labelled `UNKNOWN`, are *novel*: the threshold must refuse them;
the other actors' faces are *known*: it must accept them, as the right actor. The threshold chosen is the one of
`THRESHOLD_GRID` with the smallest balanced error, the mean of the share of novel faces accepted and the share of
known faces refused or misnamed (ties: the middle of the tied ones). The inner fits run with the outer ones
(`classifiers.selection.pool.run_folds`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from classifiers.chain.face_decide import UNKNOWN
from classifiers.chain.face_model import FaceModel

THRESHOLD_GRID = tuple(round(0.05 * k, 2) for k in range(1, 20))  # 0.05 .. 0.95
DEFAULT_THRESHOLD = 0.5  # without any fold to choose on (one actor, too few faces)
MAX_GROUPS = 3  # training videos are split into at most this many groups, held out in turn
MAX_HELD_OUT_ACTORS = 6  # actors held out per training set (a seeded choice beyond): the inner fits' cost is bounded


@dataclass
class InnerFold:
    """One actor held out inside one training set: fit on `train`, predict the faces `test` (rows of the data)."""

    outer: int  # the outer fold (0-based), -1 for the saved model's
    actor: str
    train: np.ndarray
    test: np.ndarray


def inner_folds(data, train: np.ndarray, *, outer: int, seed: int = 0) -> list[InnerFold]:
    """Leave-one-actor-out folds inside the training faces `train` (indices into `data`'s faces).

    Each actor is held out with a group of whole training videos (groups take turns), or with the later half of
    the faces when there is one training video; folds whose test holds none of the actor's faces, or whose training
    holds one class, are left out. With more than `MAX_HELD_OUT_ACTORS` actors, a seeded choice of them is held out.
    """
    train = np.asarray(train, dtype=np.intp)
    y, videos = data.y[train], data.video_ids[train]
    actors = sorted(set(y.tolist()) - {UNKNOWN})
    rng = np.random.default_rng(seed + outer + 1)
    if len(actors) > MAX_HELD_OUT_ACTORS:
        actors = sorted(rng.choice(actors, MAX_HELD_OUT_ACTORS, replace=False).tolist())
    names = sorted(set(videos.tolist()))
    if len(names) >= 2:
        order = rng.permutation(names).tolist()
        groups = [np.isin(videos, order[g::min(MAX_GROUPS, len(names))]) for g in range(min(MAX_GROUPS, len(names)))]
    else:
        later = data.time_s[train] >= np.median(data.time_s[train])
        groups = [later, ~later]
    out = []
    for i, actor in enumerate(actors):
        for g in range(len(groups)):
            held = groups[(i + g) % len(groups)]
            fit = ~held & (y != actor)
            if np.any(held & (y == actor)) and len(np.unique(y[fit])) >= 2:
                out.append(InnerFold(outer, actor, train[fit], train[held]))
                break
    return out


def novel_evidence(fold: InnerFold, model, data, actors: list[str], smoothing: str) -> dict[str, np.ndarray]:
    """Per test face of `fold`: its best actor's probability, the unknown probability, whether the best actor is its
    own, and whether it is novel (the held-out actor's, or `UNKNOWN`) -- from `model` fitted on `fold.train`."""
    chain = FaceModel(pipeline=model, actors=list(actors), threshold=0.0, smoothing=smoothing)
    parts = []
    for video_id in np.unique(data.video_ids[fold.test]).tolist():
        rows = fold.test[data.video_ids[fold.test] == video_id]
        p_actor, p_unknown = chain.face_proba(data.videos[video_id].table)
        local = data.rows[rows]
        parts.append((p_actor[local], p_unknown[local], data.y[rows]))
    p_actor = np.concatenate([p[0] for p in parts])
    labels = np.concatenate([p[2] for p in parts])
    best = p_actor.argmax(axis=1)
    return {"p_best": p_actor.max(axis=1), "p_unknown": np.concatenate([p[1] for p in parts]),
            "right": np.asarray(actors, dtype=object)[best] == labels,
            "novel": (labels == fold.actor) | (labels == UNKNOWN)}


def threshold_errors(evidence: list[dict], grid=THRESHOLD_GRID) -> np.ndarray:
    """Balanced error (mean of novel faces accepted and known faces refused or misnamed) at each threshold of `grid`."""
    p_best = np.concatenate([e["p_best"] for e in evidence])
    p_unknown = np.concatenate([e["p_unknown"] for e in evidence])
    right = np.concatenate([e["right"] for e in evidence])
    novel = np.concatenate([e["novel"] for e in evidence])
    accept = p_best[:, None] >= np.maximum(np.asarray(grid)[None, :], p_unknown[:, None])
    accept &= p_best[:, None] > 0
    novel_accepted = accept[novel].mean(axis=0) if novel.any() else np.zeros(len(grid))
    known_missed = (~accept | ~right[:, None])[~novel].mean(axis=0) if (~novel).any() else np.zeros(len(grid))
    return 0.5 * (novel_accepted + known_missed)


def choose_threshold(evidence: list[dict], grid=THRESHOLD_GRID) -> tuple[float, str]:
    """(threshold, why) with the smallest balanced error over `evidence`; `DEFAULT_THRESHOLD` without any."""
    evidence = [e for e in evidence if len(e["p_best"])]
    if not evidence:
        return DEFAULT_THRESHOLD, (f"{DEFAULT_THRESHOLD:g} (no actor could be held out: label a second actor, or more "
                                   "videos)")
    errors = threshold_errors(evidence, grid)
    tied = np.flatnonzero(errors <= errors.min() + 1e-9)
    chosen = float(np.asarray(grid)[tied[len(tied) // 2]])
    n_novel = sum(int(e["novel"].sum()) for e in evidence)
    n_known = sum(int((~e["novel"]).sum()) for e in evidence)
    return chosen, (f"{chosen:g}, balanced error {errors.min():.3f} on {n_novel} faces of held-out actors and unknown "
                    f"people and {n_known} of known actors")


def fold_thresholds(folds: list[InnerFold], models: list, data, actors: list[str], smoothings,
                    outers) -> dict[tuple[int, str], tuple[float, str]]:
    """(outer fold, smoothing) -> (threshold, why) for each of `outers`, from the inner folds and their fitted models
    (same order); an outer fold without inner folds gets `DEFAULT_THRESHOLD`."""
    evidence: dict[tuple[int, str], list] = {}
    for fold, model in zip(folds, models):
        for smoothing in smoothings:
            evidence.setdefault((fold.outer, smoothing), []).append(novel_evidence(fold, model, data, actors, smoothing))
    return {(k, s): choose_threshold(evidence.get((k, s), [])) for k in outers for s in smoothings}
