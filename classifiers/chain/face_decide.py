"""Whose each face is: a face classifier's probabilities -> one actor per face, or `UNKNOWN` (issue 24).

A face is an actor's when that actor's probability reaches the model's unknown threshold and beats the classifier's
own `unknown` class (faces of people nobody labelled, when it was trained on some); otherwise it is `UNKNOWN`. An
actor is one person, so within one sample at most one face is theirs: where faces of one sample would share an
actor, the faces and actors are assigned together (the Hungarian method, scipy's `linear_sum_assignment`) for the
likeliest assignment, and a face left without an actor is `UNKNOWN` -- unless it is a copy of the face that was
given the actor (a mirror, a split screen, the same shot shown twice): a face that could be that actor and whose
descriptor lies within `SAME_PERSON_DISTANCE` of it is the actor's too (it was unknown people's time, on a composed
split screen all of it). With smoothing ``"track"`` each face first
takes the mean probabilities of its track (the faces linked across samples of one shot: one person).

A small face says less about who it is (dlib's descriptor of a face under 40 px is of a chip upscaled four times),
and the extras a model took for actors were mostly such faces: a face under `SMALL_FACE_PX` is named only at a
probability of `SMALL_FACE_MIN_P` or more (`face_thresholds`; docs/faces.md, chosen on development footage).
"""

from __future__ import annotations

import numpy as np

from featurestore.faces.tracks import MAX_DISTANCE_ALONE

UNKNOWN = "unknown"
#: How face probabilities are smoothed before the decision: none, or the mean over each face's track.
SMOOTHINGS = ("none", "track")
_NEVER = 1e6  # cost of a forbidden pairing in the assignment (finite: scipy refuses infeasible matrices)
#: Faces smaller than this (box height, pixels of the video) need at least `SMALL_FACE_MIN_P` to be named.
SMALL_FACE_PX = 40.0
SMALL_FACE_MIN_P = 0.7
#: Two faces of one sample this close (dlib descriptors, Euclidean) are one person shown twice: the distance under
#: which the tracker links two faces with nothing else to go by (`featurestore.faces.tracks.MAX_DISTANCE_ALONE`).
SAME_PERSON_DISTANCE = MAX_DISTANCE_ALONE


def face_thresholds(threshold: float, size_px: np.ndarray, small_face: tuple[float, float] | None) -> np.ndarray:
    """(n,) each face's unknown threshold: `threshold`, raised to ``small_face[1]`` for faces under ``small_face[0]``
    px high (`small_face` None: `threshold` for every face)."""
    size_px = np.asarray(size_px, dtype=np.float64)
    out = np.full(len(size_px), float(threshold))
    if small_face is not None:
        below_px, min_p = small_face
        out[size_px < below_px] = max(float(threshold), float(min_p))
    return out


def actor_columns(proba: np.ndarray, classes, actors: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(probabilities of `actors`, shape (n, n_actors); of `UNKNOWN`, shape (n,)) from a classifier's columns
    `classes` (a fold's model may lack an actor: its column stays 0)."""
    proba = np.asarray(proba, dtype=np.float64)
    classes = [str(c) for c in classes]
    out = np.zeros((len(proba), len(actors)))
    for j, a in enumerate(actors):
        if a in classes:
            out[:, j] = proba[:, classes.index(a)]
    unknown = proba[:, classes.index(UNKNOWN)] if UNKNOWN in classes else np.zeros(len(proba))
    return out, unknown


def track_mean(values: np.ndarray, track: np.ndarray) -> np.ndarray:
    """Each row replaced by the mean of the rows of its track (`track` (n,) int, -1: none, kept as is)."""
    values = np.asarray(values, dtype=np.float64)
    track = np.asarray(track)
    out = values.copy()
    linked = track >= 0
    if not linked.any():
        return out
    ids, inverse = np.unique(track[linked], return_inverse=True)
    sums = np.zeros((len(ids),) + values.shape[1:])
    np.add.at(sums, inverse, values[linked])
    counts = np.bincount(inverse, minlength=len(ids)).reshape((-1,) + (1,) * (values.ndim - 1))
    out[linked] = (sums / counts)[inverse]
    return out


def smooth(proba: np.ndarray, track: np.ndarray, smoothing: str) -> np.ndarray:
    """`proba` (n, k) smoothed as `smoothing` (one of `SMOOTHINGS`) says."""
    if smoothing not in SMOOTHINGS:
        raise ValueError(f"smoothing must be one of {', '.join(SMOOTHINGS)}, got {smoothing!r}")
    return track_mean(proba, track) if smoothing == "track" else np.asarray(proba, dtype=np.float64)


def decide(p_actor: np.ndarray, p_unknown: np.ndarray, sample: np.ndarray, threshold: float | np.ndarray,
           admissible: np.ndarray | None = None, embedding: np.ndarray | None = None) -> np.ndarray:
    """Each face's actor (index into the columns of `p_actor`), or -1 for `UNKNOWN`.

    Parameters
    ----------
    p_actor : ndarray of shape (n_faces, n_actors)
    p_unknown : ndarray of shape (n_faces,)
        The classifier's probability of its `UNKNOWN` class (zeros without one).
    sample : ndarray of shape (n_faces,), int
        The sample each face belongs to; faces of one sample never share an actor.
    threshold : float or ndarray of shape (n_faces,)
        An actor's probability must reach it (and the face's unknown probability) for the face to be theirs; one per
        face (`face_thresholds`) or one for all.
    admissible : ndarray of shape (n_faces, n_actors), bool, optional
        Which actors each face may be at all (the open-set check, `classifiers.chain.face_open_set`); default: any.
    embedding : ndarray of shape (n_faces, d), optional
        The faces' descriptors: a face that loses its actor to another face of its sample lying within
        `SAME_PERSON_DISTANCE` of it is that actor's too (one person shown twice); without: never.

    Returns
    -------
    ndarray of shape (n_faces,), int
    """
    p_actor = np.asarray(p_actor, dtype=np.float64)
    n, k = p_actor.shape
    floor = np.maximum(np.asarray(threshold, dtype=np.float64), np.asarray(p_unknown, dtype=np.float64))
    allowed = (p_actor >= floor[:, None]) & (p_actor > 0)
    if admissible is not None:
        allowed &= np.asarray(admissible, dtype=bool)
    best = np.where(allowed.any(axis=1), np.where(allowed, p_actor, -1.0).argmax(axis=1), -1) if k else np.full(n, -1)
    sample = np.asarray(sample)
    chosen = best >= 0
    if chosen.sum() < 2:
        return best
    keys = sample[chosen] * (k + 1) + best[chosen]
    _, counts = np.unique(keys, return_counts=True)
    if counts.max() < 2:
        return best
    from scipy.optimize import linear_sum_assignment

    clashing = np.unique(sample[chosen][np.isin(keys, np.unique(keys)[counts > 1])])
    for s in clashing.tolist():
        faces = np.flatnonzero(sample == s)
        cost = np.where(allowed[faces], -np.log(np.clip(p_actor[faces], 1e-12, None)), _NEVER)
        reject = np.full((len(faces), len(faces)), _NEVER)
        np.fill_diagonal(reject, -np.log(np.clip(floor[faces], 1e-12, None)))  # each face may stay unknown
        rows, cols = linear_sum_assignment(np.hstack([cost, reject]))
        for r, c in zip(rows, cols):
            best[faces[r]] = c if c < k and allowed[faces[r], c] else -1
        if embedding is not None:
            _name_copies(best, faces, allowed, p_actor, np.asarray(embedding, dtype=np.float64))
    return best


def _name_copies(best: np.ndarray, faces: np.ndarray, allowed: np.ndarray, p_actor: np.ndarray,
                 embedding: np.ndarray) -> None:
    """In place: each of `faces` (one sample's) left unknown whose likeliest allowed actor holds a face of the sample
    within `SAME_PERSON_DISTANCE` of it takes that actor."""
    for f in faces[(best[faces] < 0) & allowed[faces].any(axis=1)].tolist():
        a = int(np.where(allowed[f], p_actor[f], -1.0).argmax())
        holders = faces[best[faces] == a]
        if len(holders) and copies_of(embedding, np.array([f]), holders)[0] >= 0:
            best[f] = a


def copies_of(embedding: np.ndarray, faces: np.ndarray, held: np.ndarray) -> np.ndarray:
    """For each of `faces` (rows of `embedding`, (n, d)), the position in `held` (rows too) of the nearest face within
    `SAME_PERSON_DISTANCE` of it -- one person shown twice, or a look-alike -- else -1; shape (len(faces),)."""
    if not len(faces) or not len(held):
        return np.full(len(faces), -1)
    distance = np.linalg.norm(embedding[faces][:, None, :] - embedding[held][None, :, :], axis=2)
    nearest = distance.argmin(axis=1)
    return np.where(distance[np.arange(len(faces)), nearest] <= SAME_PERSON_DISTANCE, nearest, -1)
