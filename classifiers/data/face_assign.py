"""Faces and actors of one labelled sample assigned to each other under a first model (issue 24).

Where several faces share a labelled sample and the labels name several actors (or one actor and several faces),
nothing in the labels says which face is whose. A first model -- logistic regression on the faces whose labels are
unambiguous (`classifiers.data.face_labels`) -- gives each face's probability of each actor; per sample the
actors are assigned to faces, at most one face each, for the likeliest assignment (the Hungarian method, scipy's
`linear_sum_assignment` on -log p). Faces left over are examples of `UNKNOWN` (``leftover``) -- except one within
`SAME_PERSON_DISTANCE` of a face given an actor, which is left out of training: the actor shown twice (a split
screen, a mirror: as `UNKNOWN` it taught the actor's own face as nobody's) or a look-alike (a small extra 0.38 from
an actor's face, development seed 10: as the actor's it cost 0.8 points of one actor's error), which the labels
cannot tell apart; actors left over had no face (``missed``). With `rounds` > 1 the first model is fitted again on everything assigned and the pending samples
are assigned again. Measured on composed footage (the issue), training on single-face samples only was clearly worse
than this assignment.
"""

from __future__ import annotations

import warnings

import numpy as np

from classifiers.chain.face_decide import UNKNOWN, copies_of
from featurestore.progress import step

from .face_labels import VideoFaceLabels

#: How many times the first model is fitted and the pending samples assigned.
DEFAULT_ROUNDS = 2


def first_model(X: np.ndarray, y: np.ndarray, actors: list[str], seed: int = 0):
    """A function: faces (n, d) -> probabilities (n, n_actors) of `actors`, from the labelled faces `X`, `y`.

    Logistic regression when `y` holds two classes or more; with one, cosine similarity to its mean face, mapped to
    [0, 1] (other actors 0); with none, every actor equally likely.
    """
    classes = sorted(set(y.tolist()))
    if len(classes) >= 2:
        from sklearn.linear_model import LogisticRegression

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence on a few hundred faces is not worth a line
            clf = LogisticRegression(C=1.0, max_iter=1000, class_weight="balanced", random_state=seed).fit(X, y)
        index = [list(clf.classes_).index(a) if a in clf.classes_ else -1 for a in actors]

        def proba(F):
            p = clf.predict_proba(F)
            return np.column_stack([p[:, i] if i >= 0 else np.zeros(len(F)) for i in index])
        return proba
    if len(classes) == 1 and classes[0] in actors:
        centre = X.mean(axis=0)
        centre = centre / max(np.linalg.norm(centre), 1e-12)
        j = actors.index(classes[0])

        def proba(F):
            out = np.zeros((len(F), len(actors)))
            out[:, j] = np.clip((F @ centre + 1.0) / 2.0, 0.0, 1.0)
            return out
        return proba
    return lambda F: np.full((len(F), len(actors)), 1.0 / max(len(actors), 1))


def assign_pending(videos: dict[str, VideoFaceLabels], actors: list[str], *, rounds: int = DEFAULT_ROUNDS,
                   seed: int = 0, progress=None) -> None:
    """Assign every video's pending faces and actors (in place: labels 'assigned' and 'leftover', `missed` counted);
    `progress` (`featurestore.progress.Progress`) counts the rounds."""
    groups = [(v, rows, group_actors) for v in videos.values() for rows, group_actors in v.pending]
    if not groups:
        return
    from scipy.optimize import linear_sum_assignment

    with step(progress, f"assigning {len(groups)} samples' faces to their actors: rounds", max(1, rounds)) as advance:
        for _ in range(max(1, rounds)):  # the first round learns from the unambiguous faces, later ones from all
            X, y = _labelled(videos)
            proba = first_model(X, y, actors, seed=seed)
            every = _pending_proba(videos, proba)  # one call per video: a call per sample costs more than the model
            for v, rows, group_actors in groups:
                cols = [actors.index(a) for a in group_actors]
                p = every[id(v)][rows][:, cols]
                faces, chosen = linear_sum_assignment(-np.log(np.clip(p, 1e-9, None)))
                v.claim(rows, UNKNOWN, "leftover")
                for f, a in zip(faces, chosen):
                    v.claim(rows[f], group_actors[a], "assigned")
                _claim_copies(v, np.asarray(rows, np.intp), np.asarray(rows, np.intp)[faces])
            advance()
    for v in videos.values():
        v.missed += sum(max(0, len(group_actors) - len(rows)) for rows, group_actors in v.pending)
        v.pending = []


def _claim_copies(v: VideoFaceLabels, rows: np.ndarray, assigned: np.ndarray) -> None:
    """Each of one sample's `rows` left over that lies within `SAME_PERSON_DISTANCE` of an `assigned` row is left out
    of training (unlabelled): one person shown twice, or a look-alike."""
    left = np.setdiff1d(rows, assigned)
    copies = left[copies_of(np.asarray(v.table.embedding, dtype=np.float64), left, assigned) >= 0]
    v.claim(copies, "", "")  # counted as 'unlabelled' in compare-models' table


def _pending_proba(videos: dict[str, VideoFaceLabels], proba) -> dict[int, np.ndarray]:
    """id(video labels) -> (n_faces, n_actors) probabilities, filled at the video's pending rows (zero elsewhere)."""
    out = {}
    for v in videos.values():
        rows = np.unique(np.concatenate([np.asarray(r, np.intp) for r, _ in v.pending])) if v.pending else None
        if rows is None or not len(rows):
            continue
        p = proba(np.asarray(v.table.embedding[rows], dtype=np.float64))
        full = np.zeros((len(v.label), p.shape[1]))
        full[rows] = p
        out[id(v)] = full
    return out


def _labelled(videos: dict[str, VideoFaceLabels]) -> tuple[np.ndarray, np.ndarray]:
    X, y = [], []
    for v in videos.values():
        rows = np.flatnonzero(v.label != "")
        X.append(np.asarray(v.table.embedding[rows], dtype=np.float64))
        y.append(v.label[rows].astype(str))
    dim = next((x.shape[1] for x in X if x.ndim == 2 and x.shape[1]), 0)
    return (np.concatenate(X) if X else np.zeros((0, dim))), (np.concatenate(y) if y else np.zeros(0, str))


def label_counts(videos: dict[str, VideoFaceLabels]) -> dict[str, int]:
    """How the faces got their labels, summed over videos: faces, labelled and by how, ``unknown`` (the faces labelled
    `UNKNOWN`, by any rule), unlabelled, missed actors."""
    counts = {"faces": 0, "single": 0, "track": 0, "assigned": 0, "box": 0, "named": 0, "cluster": 0, "leftover": 0,
              "none": 0, "unknown": 0, "unlabelled": 0, "missed": 0, "labelled_samples": 0}
    for v in videos.values():
        counts["faces"] += len(v.label)
        for how in ("single", "track", "assigned", "box", "named", "cluster", "leftover", "none"):
            counts[how] += int(np.sum(v.how == how))
        counts["unknown"] += int(np.sum(v.label == UNKNOWN))  # by any rule: left over, none label, named unknown
        counts["unlabelled"] += int(np.sum(v.label == ""))
        counts["missed"] += int(v.missed)
        counts["labelled_samples"] += int(v.labelled.sum())
    return counts
