"""Screen time from faces (issue 24): whose each face is -> each actor's seconds, unknown people's, time together.

An actor is on screen at a sample where at least one face of the sample is theirs; each sample stands for its
sampling interval (`classifiers.chain.timeline`), so seconds are exact sums of intervals, and actors' times may add
up to more than the video. Besides: ``unknown_s``, the seconds with a face of nobody labelled; ``together_s``, two or
more actors; ``none_s``, no actor. ``tracked_s`` is a separate figure: a track (one person's faces linked inside a
shot) is its actor's, and carries them through the samples between its first and last face where the detector
missed them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from featurestore.faces.boxes import in_frame

from .face_decide import UNKNOWN
from .presence import character_runs, presence_fields
from .timeline import VideoScreenTime, sample_bounds_s


@dataclass
class FaceCalls:
    """Each face of a scored video and whose it is (arrays of shape (n_faces,) unless said).

    sample : int, the sample (index into the video's samples) of each face; label : object, the actor or
    `UNKNOWN`; p : float, the probability of that actor (for `UNKNOWN`: 1 - the best actor's); box : (n_faces, 4)
    float, x, y, w, h normalised, the part inside the frame (`featurestore.faces.boxes.in_frame`: a face cut by the
    frame's edge is stored with the detector's whole-face box, which reaches past it); track : int (-1: none); quality : float in [0, 1]; frame_size : (width, height) px.
    """

    sample: np.ndarray
    label: np.ndarray
    p: np.ndarray
    box: np.ndarray
    track: np.ndarray
    quality: np.ndarray
    frame_size: tuple = (0, 0)

    def at(self, k: int) -> np.ndarray:
        """Rows of the faces of sample `k`."""
        return np.flatnonzero(self.sample == k)


@dataclass
class FaceScreenTime(VideoScreenTime):
    """`VideoScreenTime` of a face model (``multi_label`` True, `classes` the actors), with what faces add.

    Attributes
    ----------
    unknown_s : float
        Seconds with at least one face of nobody labelled.
    tracked_s : dict of str to float
        Per actor, seconds seen or carried by their tracks through missed detections (>= ``screen_time_s``).
    faces : FaceCalls
        Every face and whose it is.
    unknown_on : ndarray of shape (n_samples,), bool
        Samples with a face of nobody labelled.
    tracked_on : ndarray of shape (n_samples, n_actors), bool
        Each actor seen, or carried by their track, at each sample (what ``tracked_s`` sums).
    unknown_segments : list of Segment
        The runs of `unknown_on` (label `UNKNOWN`), confidence the mean over each run of its likeliest unknown face's
        p (1 - the best actor's probability): what the segments CSV, the JSON, subtitles and report show.
    near_share : float or None
        Share of the faces near an actor's training face (`classifiers.chain.face_familiarity.near_share`).
    poorer : dict of str to float, or None
        Per quality part, the share of the faces below the training faces' (`face_familiarity.poorer_shares`).
    faults : list of str
        What made the video unlike the training videos: "far", "few near", quality parts (`FaceFamiliarity.faults`).
    """

    unknown_s: float = 0.0
    tracked_s: dict = field(default_factory=dict)
    faces: FaceCalls | None = None
    unknown_on: np.ndarray | None = None
    tracked_on: np.ndarray | None = None
    unknown_segments: list = field(default_factory=list)
    near_share: float | None = None
    poorer: dict | None = None
    faults: list = field(default_factory=list)


def faces_samples(table) -> np.ndarray:
    """Each face's sample index in a `FaceTable`, shape (n_faces,): kept for code written against it; `table.sample`
    (computed once per table) is the same."""
    import warnings

    warnings.warn("faces_samples(table) is table.sample now", DeprecationWarning, stacklevel=2)
    return table.sample


def summarize_faces(video_id: str, table, actor: np.ndarray, p_actor: np.ndarray, actors: list[str], duration_s: float,
                    sample_fps: float) -> FaceScreenTime:
    """Screen time of one video from its faces and whose each is.

    Parameters
    ----------
    video_id : str
    table : FaceTable
        The video's faces (`featurestore.faces.table.FaceTable`); its `sample_times_s` are the samples, at the
        presentation times of their frames. The timeline is the sampling grid k / sample_fps, as the frame
        models' (`VideoScreenTime.sample_s`; the presentation times are its `actual_s`).
    actor : ndarray of shape (n_faces,), int
        Each face's actor, an index into `actors`, or -1 for unknown (`classifiers.chain.face_decide.decide`).
    p_actor : ndarray of shape (n_faces, n_actors)
        The (smoothed) probabilities the decision was made from; per sample, an actor's shown probability is the
        largest of its faces'.
    actors : list of str
    duration_s, sample_fps : float
        The video's length (seconds) and sampling rate (samples per second).
    """
    actual = np.asarray(table.sample_times_s, dtype=np.float64)
    m, k = len(actual), len(actors)
    t = np.arange(m) / float(sample_fps)  # the grid: held frames share a presentation time, never a grid time
    bounds = sample_bounds_s(t, duration_s, sample_fps)
    durations = np.diff(bounds)
    sample = table.sample
    actor = np.asarray(actor, dtype=np.intp)
    on = np.zeros((m, k), bool)
    seen = actor >= 0
    on[sample[seen], actor[seen]] = True
    presence = np.zeros((m, k))
    if len(sample):
        np.maximum.at(presence, sample, np.asarray(p_actor, dtype=np.float64).reshape(len(actor), k))
    unknown_on = np.zeros(m, bool)
    unknown_on[sample[~seen]] = True
    carried = on | _carried(sample, actor, np.asarray(table.track), m, k)
    p_actor = np.asarray(p_actor, dtype=np.float64).reshape(len(actor), k)
    own = p_actor[np.arange(len(actor)), np.clip(actor, 0, None)] if k else np.zeros(len(actor))
    best = p_actor.max(axis=1) if k else np.zeros(len(actor))
    face_label = np.full(len(actor), UNKNOWN, dtype=object)
    face_label[seen] = np.asarray(actors, dtype=object)[actor[seen]]
    p_unknown = np.zeros(m)
    np.maximum.at(p_unknown, sample[~seen], 1.0 - best[~seen])
    calls = FaceCalls(sample=sample, label=face_label, p=np.where(seen, own, 1.0 - best),
                      box=in_frame(table.box), track=np.asarray(table.track),
                      quality=np.asarray(table.quality, dtype=np.float64), frame_size=tuple(table.frame_size))
    return FaceScreenTime(
        video_id=str(video_id), duration_s=float(duration_s), sample_fps=float(sample_fps), classes=list(actors),
        sample_s=t, actual_s=actual, proba=presence, none_label="no actor", unknown_s=float(durations @ unknown_on) if m else 0.0,
        tracked_s={c: float(s) for c, s in zip(actors, durations @ carried if m else np.zeros(k))},
        faces=calls, unknown_on=unknown_on, tracked_on=carried,
        unknown_segments=character_runs(bounds, unknown_on, p_unknown, UNKNOWN) if m else [],
        **presence_fields(bounds, on, presence, actors),
    )


def _carried(sample: np.ndarray, actor: np.ndarray, track: np.ndarray, m: int, k: int) -> np.ndarray:
    """(m, k) bool: samples inside a track's span (first to last face; tracks never cross a cut) where the track's
    actor -- whose most of its faces are, if more than are unknown -- has no face of it."""
    out = np.zeros((m, k), bool)
    for tr in np.unique(track[track >= 0]).tolist():
        rows = np.flatnonzero(track == tr)
        votes = np.bincount(actor[rows] + 1, minlength=k + 1)  # 0: unknown
        best = int(np.argmax(votes[1:])) if k else -1
        if k == 0 or votes[best + 1] == 0 or votes[best + 1] <= votes[0]:
            continue
        out[sample[rows].min():sample[rows].max() + 1, best] = True
    return out
