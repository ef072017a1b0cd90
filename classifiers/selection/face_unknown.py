"""The unknown threshold of a face model, and its open-set distance, chosen by cross-validation on faces whose actor
was held out (issue 24).

A face of someone nobody labelled must not count as cast. Inside each training fold (and, for the saved model,
over all labelled faces) every actor is held out once: a model is fitted on the fold's training faces without that
actor's, and without the faces of a group of training videos (whole videos, or the second half of a single one),
and predicts those videos' faces through the face model's own chain (`FaceModel.face_proba`, smoothing included).
The held-out actor's faces there are *novel*: the threshold must refuse them; the other actors' faces are *known*:
it must accept them, as the right actor. Faces labelled `UNKNOWN` are left out by default: the same unknown people
(crew, recurring extras) appear across training videos, so the fit has learned them, and counting them as novel
made the threshold far too permissive for people never seen (docs/faces.md). The pair (threshold of
`THRESHOLD_GRID`, open-set distance of `DISTANCE_GRID` -- `classifiers.chain.face_open_set`) chosen is, by the
default rule ``"false-accept"``, the one with the smallest balanced error (the mean of the share of novel faces
accepted and the share of known faces refused or misnamed) among those accepting at most `TARGET_FALSE_ACCEPT`
of the novel faces; ``"balanced"`` drops that bound (ties: the middle threshold). The inner fits run with the
outer ones (`classifiers.selection.pool.run_folds`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from classifiers.chain.face_decide import UNKNOWN
from classifiers.chain.face_model import FaceModel
from classifiers.chain.face_open_set import MAX_DISTANCE, FaceReference

#: 0.5 .. 0.95: a face is an actor's only when the model finds that more likely than not (below 0.5, CV chose
#: thresholds as low as 0.15 on development footage, and extras were named at p 0.39; docs/faces.md).
THRESHOLD_GRID = tuple(round(0.05 * k, 2) for k in range(10, 20))
DEFAULT_THRESHOLD = 0.5  # without any fold to choose on (one actor, too few faces)
MAX_GROUPS = 3  # training videos are split into at most this many groups, held out in turn
MAX_HELD_OUT_ACTORS = 6  # actors held out per training set (a seeded choice beyond): the inner fits' cost is bounded
#: How the threshold is chosen: the smallest balanced error, or that among thresholds accepting at most
#: `TARGET_FALSE_ACCEPT` of the novel faces (`choose_threshold`).
RULES = ("balanced", "false-accept")
DEFAULT_RULE = "false-accept"
TARGET_FALSE_ACCEPT = 0.02  # issue 24: extras counted as cast in at most 2% of their seconds
#: The open-set distances cross-validation chooses among (None: no check), around dlib's 0.6 rule.
DISTANCE_GRID = (None, 0.45, 0.5, 0.55, 0.6)


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


def fold_reference(data, rows: np.ndarray, actors: list[str], max_distance: float | None) -> FaceReference | None:
    """The open-set reference of the training faces `rows` of `data` (None when `max_distance` is None: no check)."""
    if max_distance is None:
        return None
    return FaceReference.from_training(data.X[rows], data.y[rows], list(actors), max_distance=max_distance)


def novel_evidence(fold: InnerFold, model, data, actors: list[str], smoothing: str,
                   distances: bool = False, unknown_novel: bool = False) -> dict[str, np.ndarray]:
    """Per test face of `fold`, from `model` fitted on `fold.train`: the actors' and unknown probabilities
    (``p_actor`` (n, k), ``p_unknown``), its own actor (``own``, an index into `actors`, -1 for none), whether it is
    novel (the held-out actor's, or, with `unknown_novel`, `UNKNOWN`; without it, faces of `UNKNOWN` are left out:
    the same unknown people recur across training videos, so the fit has seen them), and with `distances` its (track-pooled) distance to the nearest
    face of each actor in `fold.train` (``d`` (n, k); the open-set check, `classifiers.chain.face_open_set`)."""
    chain = FaceModel(pipeline=model, actors=list(actors), threshold=0.0, smoothing=smoothing)
    reference = fold_reference(data, fold.train, actors, MAX_DISTANCE) if distances else None
    parts = []
    for video_id in np.unique(data.video_ids[fold.test]).tolist():
        rows = fold.test[data.video_ids[fold.test] == video_id]
        table = data.videos[video_id].table
        p_actor, p_unknown = chain.face_proba(table)
        d = None if reference is None else reference.pooled_distances(
            np.asarray(table.embedding), np.asarray(table.track), len(actors), smoothing)
        local = data.rows[rows]
        parts.append((p_actor[local], p_unknown[local], None if d is None else d[local], data.y[rows]))
    labels = np.concatenate([p[3] for p in parts])
    keep = np.ones(len(labels), bool) if unknown_novel else labels != UNKNOWN
    index = {a: j for j, a in enumerate(actors)}
    return {"p_actor": np.concatenate([p[0] for p in parts])[keep],
            "p_unknown": np.concatenate([p[1] for p in parts])[keep],
            "d": None if reference is None else np.concatenate([p[2] for p in parts])[keep],
            "own": np.array([index.get(str(x), -1) for x in labels[keep]], dtype=np.intp),
            "novel": ((labels == fold.actor) | (labels == UNKNOWN))[keep]}


def _best(e: dict, max_distance: float | None) -> tuple[np.ndarray, np.ndarray]:
    """(best admissible actor's probability, whether that actor is the face's own) of evidence `e`."""
    p = e["p_actor"] if max_distance is None else np.where(e["d"] <= max_distance, e["p_actor"], 0.0)
    if p.shape[1] == 0:
        return np.zeros(len(p)), np.zeros(len(p), bool)
    return p.max(axis=1), p.argmax(axis=1) == e["own"]


def threshold_rates(evidence: list[dict], grid=THRESHOLD_GRID,
                    max_distance: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(share of novel faces accepted, share of known faces refused or misnamed) at each threshold of `grid`, with
    the open-set check at `max_distance` (None: none)."""
    best = [_best(e, max_distance) for e in evidence]
    p_best = np.concatenate([b[0] for b in best])
    right = np.concatenate([b[1] for b in best])
    p_unknown = np.concatenate([e["p_unknown"] for e in evidence])
    novel = np.concatenate([e["novel"] for e in evidence])
    accept = p_best[:, None] >= np.maximum(np.asarray(grid)[None, :], p_unknown[:, None])
    accept &= p_best[:, None] > 0
    novel_accepted = accept[novel].mean(axis=0) if novel.any() else np.zeros(len(grid))
    known_missed = (~accept | ~right[:, None])[~novel].mean(axis=0) if (~novel).any() else np.zeros(len(grid))
    return novel_accepted, known_missed


def choose_threshold(evidence: list[dict], grid=THRESHOLD_GRID, rule: str = DEFAULT_RULE,
                     distances=(None,)) -> tuple[float, float | None, str]:
    """(threshold, max_distance, why) by `rule` (`RULES`) over `evidence`, the distance among `distances` (None: no
    open-set check; others need evidence with ``d``). Without evidence: `DEFAULT_THRESHOLD` and the loosest check
    among `distances` (the descriptor's own same-person rule, 0.6, in `DISTANCE_GRID`), none if only None is asked.

    ``"balanced"``: the smallest balanced error (ties: the middle threshold, the first distance). ``"false-accept"``:
    the smallest balanced error among the pairs that accept at most `TARGET_FALSE_ACCEPT` of the novel faces, where
    one does.
    """
    if rule not in RULES:
        raise ValueError(f"rule must be one of {', '.join(RULES)}, got {rule!r}")
    evidence = [e for e in evidence if len(e["p_actor"])]
    if not evidence:
        checks = [d for d in distances if d is not None]
        fallback = max(checks) if checks else None
        check = "" if fallback is None else f" within {fallback:g} of the actor's faces (the descriptor's same-person rule)"
        return DEFAULT_THRESHOLD, fallback, (
            f"{DEFAULT_THRESHOLD:g}{check}: no actor could be held out (holding one out must leave two classes to fit: "
            "label a third actor or the unknown people in labelled seconds, or more videos)")
    rates = [threshold_rates(evidence, grid, d) for d in distances]
    novel_accepted = np.array([r[0] for r in rates])  # (distances, thresholds)
    known_missed = np.array([r[1] for r in rates])
    errors = 0.5 * (novel_accepted + known_missed)
    if rule == "false-accept" and np.any(novel_accepted <= TARGET_FALSE_ACCEPT):
        errors = np.where(novel_accepted <= TARGET_FALSE_ACCEPT, errors, np.inf)
    row = int(np.argmin(errors.min(axis=1)))
    tied = np.flatnonzero(errors[row] <= errors[row].min() + 1e-9)
    pick = tied[len(tied) // 2]
    chosen, max_distance = float(np.asarray(grid)[pick]), distances[row]
    n_novel = sum(int(e["novel"].sum()) for e in evidence)
    n_known = sum(int((~e["novel"]).sum()) for e in evidence)
    check = "" if max_distance is None else f" within {max_distance:g} of the actor's faces"
    return chosen, max_distance, (
        f"{chosen:g}{check}, balanced error {errors[row, pick]:.3f} ({100 * novel_accepted[row, pick]:.1f}% of {n_novel} "
        f"faces of people held out accepted, {100 * known_missed[row, pick]:.1f}% of {n_known} of "
        "known actors refused or misnamed)")


def fold_thresholds(folds: list[InnerFold], models: list, data, actors: list[str], smoothings, outers, *,
                    distances=(None,), rule: str = DEFAULT_RULE,
                    unknown_novel: bool = False, on_fold=None) -> dict[tuple[int, str], tuple[float, float | None, str]]:
    """(outer fold, smoothing) -> (threshold, max_distance, why) for each of `outers`, from the inner folds and their
    fitted models (same order), by `rule` and among `distances` (`choose_threshold`); an outer fold without inner
    folds gets `DEFAULT_THRESHOLD` and the loosest check asked. `on_fold(1)` as each inner fold is measured."""
    evidence: dict[tuple[int, str], list] = {}
    with_d = any(d is not None for d in distances)
    for fold, model in zip(folds, models):
        for smoothing in smoothings:
            evidence.setdefault((fold.outer, smoothing), []).append(
                novel_evidence(fold, model, data, actors, smoothing, with_d, unknown_novel))
        if on_fold is not None:
            on_fold(1)
    return {(k, s): choose_threshold(evidence.get((k, s), []), rule=rule, distances=tuple(distances))
            for k in outers for s in smoothings}
