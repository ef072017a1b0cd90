"""Synthetic face tables with known truth, for tests and benches of the face classifiers (no video, no detector).

A *world* is a cast of actors, each a centre on the unit sphere of 128-d descriptors (as dlib's are); people share
one common direction, so two people are about 0.95 apart and the faces of one person about 0.4 to 0.5 from each
other, as with dlib (which calls 0.6 the same person). A video is a script of shots (cuts every 4-15 s); a shot
shows up to three actors and often extras (people nobody labels, never seen in another video), each over the whole
shot or a part of it, as one track (sometimes broken in two). Per video every actor's look drifts a little, per
track a pose offset is shared by its faces, and per face noise grows as its quality falls. Detections are missed
now and then (more often for poor faces), and junk faces appear. Everything comes from
``numpy.random.default_rng(seed)``.

The truth: who is on screen at each sample (seen or missed), whose each face is. `interval_rows` writes what a
user would label (`video,start,end,label`: each actor's runs, 'neither' where no actor is on screen).
`SyntheticFaceStore` holds the tables behind the store's face contract (`faces`, `has_faces`, `info`).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from featurestore.faces.table import FaceTable

ACTORS = ("alice", "bob", "carol", "dave")
DIM = 128
CONFIG = {"detector": "synthetic", "embedder": "synthetic-128", "version": 1}
FRAME_SIZE = (640, 360)
_SLOTS = (0.12, 0.37, 0.62, 0.85)  # horizontal places of people in a shot: boxes of one sample do not overlap


def unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


@dataclass
class FaceWorld:
    """A cast: `centres` (n_actors, DIM) unit vectors, and the direction every person shares."""

    actors: tuple
    centres: np.ndarray
    common: np.ndarray
    spread: float = 0.9

    @classmethod
    def make(cls, actors=ACTORS, seed: int = 0, spread: float = 0.9) -> "FaceWorld":
        rng = np.random.default_rng(seed)
        common = unit(rng.normal(size=DIM))
        return cls(tuple(actors), np.stack([cls._person(common, rng, spread) for _ in actors]), common, spread)

    @staticmethod
    def _person(common: np.ndarray, rng, spread: float) -> np.ndarray:
        return unit(common + spread * unit(rng.normal(size=DIM)))

    def stranger(self, rng) -> np.ndarray:
        return self._person(self.common, rng, self.spread)


@dataclass
class SyntheticFaces:
    """One video's faces and its truth.

    `person` (n_faces,): the actor's name, 'extra:<k>' or 'junk'; `truth` (m, n_actors) bool: actors on screen at
    each sample, detected or not; `extras_on` (m,) bool: an extra on screen.
    """

    table: FaceTable
    person: np.ndarray
    truth: np.ndarray
    extras_on: np.ndarray
    actors: tuple
    duration_s: float
    sample_fps: float
    info: dict = field(default_factory=dict)

    @property
    def video_id(self) -> str:
        return self.table.video_id


def make_face_video(video_id: str, world: FaceWorld, *, seed: int, duration_s: float = 120.0, sample_fps: float = 1.0,
                    miss_rate: float = 0.08, junk_rate: float = 0.02, extras_rate: float = 0.5, drift: float = 0.2,
                    track_noise: float = 0.25, face_noise: float = 0.25, quality_noise: float = 1.0,
                    confusion: float = 0.0, shift: float = 0.0, break_rate: float = 0.1,
                    config: dict = CONFIG) -> SyntheticFaces:
    """A video's faces drawn from `world` (see the module docstring); `seed` decides everything else.

    A face's noise is `face_noise` * (1 + `quality_noise` * (1 - quality)) (a unit direction times that length);
    with `confusion`, a poor face also looks partly like another actor: its centre moves towards a random actor's
    by a share up to `confusion` * (1 - quality)^2 (isotropic noise alone hardly confuses 128-d descriptors). With
    `shift`, each actor's look in this video moves towards another actor's by a share from `shift` / 2 to `shift`
    (other photos, make-up, lighting: a video unlike the training ones; `drift` alone, isotropic, barely shows).
    """
    rng = np.random.default_rng(seed)
    n_actors = len(world.actors)
    times = np.arange(int(round(duration_s * sample_fps))) / sample_fps
    m = len(times)
    cuts, t = [], 0.0
    while True:
        t += float(rng.uniform(4.0, 15.0))
        if t >= duration_s - 2.0:
            break
        cuts.append(round(t * sample_fps) / sample_fps)
    cuts = np.unique(np.asarray(cuts, dtype=np.float64))
    shot_of = np.searchsorted(cuts, times, side="right").astype(np.int32)
    looks = unit(world.centres + drift * unit(rng.normal(size=(n_actors, DIM))))  # this video's look of each actor
    if shift:
        share = shift * rng.uniform(0.5, 1.0, size=(n_actors, 1))
        looks = unit((1 - share) * looks + share * world.centres[(np.arange(n_actors) + 1 + rng.integers(n_actors - 1 or 1)) % n_actors])
    truth = np.zeros((m, n_actors), bool)
    extras_on = np.zeros(m, bool)
    rows: list[dict] = []
    n_tracks = 0
    for shot in range(len(cuts) + 1):
        idx = np.flatnonzero(shot_of == shot)
        if len(idx) == 0:
            continue
        n_cast = min(int(rng.choice(4, p=[0.15, 0.4, 0.3, 0.15])), n_actors)
        people = [("actor", int(a)) for a in rng.choice(n_actors, n_cast, replace=False)]
        if rng.random() < extras_rate:
            people += [("extra", None)] * int(rng.integers(1, 3))
        people = people[:len(_SLOTS)]
        slots = rng.permutation(len(_SLOTS))
        for (kind, a), slot in zip(people, slots):
            run = _run(idx, rng)
            centre = looks[a] if kind == "actor" else world.stranger(rng)
            name = world.actors[a] if kind == "actor" else f"extra:{video_id}:{n_tracks}"
            if kind == "actor":
                truth[run, a] = True
            else:
                extras_on[run] = True
            split = int(rng.integers(1, len(run))) if len(run) > 3 and rng.random() < break_rate else len(run)
            h = float(rng.uniform(0.08, 0.3))
            x, y = _SLOTS[slot], float(rng.uniform(0.2, 0.6))
            for part in (run[:split], run[split:]):
                if len(part) == 0:
                    continue
                pose = track_noise * unit(rng.normal(size=DIM))
                for i in part:
                    x += float(rng.normal(0, 0.005))
                    q = float(np.clip(rng.beta(4, 2) * (0.6 + 1.4 * h), 0.0, 1.0))
                    if rng.random() < miss_rate * (1.5 - q):
                        continue
                    noise = face_noise * (1.0 + quality_noise * (1.0 - q)) * unit(rng.normal(size=DIM))
                    blend = confusion * (1.0 - q) ** 2 * float(rng.random())
                    like = (1.0 - blend) * centre + blend * looks[int(rng.integers(n_actors))]
                    rows.append({"i": int(i), "person": name, "track": n_tracks, "q": q, "h": h, "x": x, "y": y,
                                 "embedding": unit(like + pose + noise)})
                n_tracks += 1
    for i in np.flatnonzero(rng.random(m) < junk_rate):
        rows.append({"i": int(i), "person": "junk", "track": -1, "q": float(rng.uniform(0, 0.3)), "h": 0.06,
                     "x": float(rng.uniform(0.05, 0.9)), "y": float(rng.uniform(0.05, 0.9)),
                     "embedding": unit(rng.normal(size=DIM))})
    table, person = _table(video_id, rows, times, cuts, shot_of, config, sample_fps)
    info = {"duration_s": float(duration_s), "sample_fps": float(sample_fps), "fps": 25.0, "width": FRAME_SIZE[0],
            "height": FRAME_SIZE[1], "source_path": f"/synthetic/{video_id}", "fingerprint": f"synthetic:{seed}"}
    return SyntheticFaces(table, person, truth, extras_on, world.actors, float(duration_s), float(sample_fps), info)


def _run(idx: np.ndarray, rng) -> np.ndarray:
    """The samples of a shot a person is on screen: all of them, or a stretch of at least 2 (or what there is)."""
    if len(idx) <= 3 or rng.random() < 0.7:
        return idx
    start = int(rng.integers(0, len(idx) - 2))
    return idx[start:start + int(rng.integers(2, len(idx) - start + 1))]


def _table(video_id, rows, times, cuts, shot_of, config, sample_fps) -> tuple[FaceTable, np.ndarray]:
    w, h_px = FRAME_SIZE
    rows = sorted(rows, key=lambda r: (r["i"], -r["q"]))
    face = np.zeros(len(rows), np.int32)
    for k in range(1, len(rows)):
        face[k] = face[k - 1] + 1 if rows[k]["i"] == rows[k - 1]["i"] else 0
    q = np.array([r["q"] for r in rows], np.float32)
    hh = np.array([r["h"] for r in rows], np.float32)
    ww = hh * (h_px / w) * 0.8
    box = np.column_stack([np.array([r["x"] for r in rows], np.float32) - ww / 2,
                           np.array([r["y"] for r in rows], np.float32), ww, hh]).astype(np.float32).reshape(-1, 4)
    landmarks = np.repeat(box[:, None, :2], 6, axis=1) + np.linspace(0, 1, 6)[None, :, None] * box[:, None, 2:]
    i = np.array([r["i"] for r in rows], dtype=np.intp)
    table = FaceTable(
        video_id=video_id, config=dict(config), sample_times_s=times.astype(np.float64), cuts_s=cuts,
        frame_size=FRAME_SIZE, time_s=times[i].astype(np.float64), face=face, box=box,
        landmarks=landmarks.astype(np.float32).reshape(-1, 6, 2), score=(0.6 + 0.4 * q).astype(np.float32),
        size_px=(hh * h_px).astype(np.float32), sharpness=(50 + 200 * q).astype(np.float32), quality=q,
        shot=shot_of[i].astype(np.int32), track=np.array([r["track"] for r in rows], np.int32),
        embedding=np.array([r["embedding"] for r in rows], np.float32).reshape(-1, DIM),
    )
    return table, np.array([r["person"] for r in rows], dtype=object)


def interval_rows(video: SyntheticFaces, none_label: str = "neither") -> list[tuple[str, float, float, str]]:
    """What a user labels: each actor's runs on screen, and `none_label` where no actor is, as [start, end) seconds."""
    step = 1.0 / video.sample_fps
    times = video.table.sample_times_s
    out = []
    columns = [(a, video.truth[:, j]) for j, a in enumerate(video.actors)] + [(none_label, ~video.truth.any(axis=1))]
    for label, on in columns:
        edges = np.flatnonzero(np.diff(np.r_[0, on.astype(np.int8), 0]))
        for start, stop in zip(edges[::2], edges[1::2]):
            out.append((video.video_id, float(times[start]), float(min(times[stop - 1] + step, video.duration_s)), label))
    return sorted(out, key=lambda r: (r[0], r[1], r[3]))


def write_interval_labels(path: str | Path, videos, none_label: str = "neither") -> Path:
    """`interval_rows` of every video in one CSV `video,start,end,label`."""
    path = Path(path)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(("video", "start", "end", "label"))
        for video in videos:
            writer.writerows((v, f"{s:g}", f"{e:g}", label) for v, s, e, label in interval_rows(video, none_label))
    return path


class SyntheticFaceStore:
    """A stand-in for FeatureStore's face contract over `SyntheticFaces`: `video_ids`, `info`, `faces`, `has_faces`."""

    def __init__(self, videos, path: str | Path = "synthetic.h5", config: dict | None = None):
        self.videos = {v.video_id: v for v in videos}
        self.path = Path(path)
        self.config = dict(config or {"model": "synthetic"})
        self.weights_path = None

    def video_ids(self) -> list[str]:
        return sorted(self.videos)

    def __contains__(self, video_id) -> bool:
        return video_id in self.videos

    def __iter__(self):
        return iter(self.video_ids())

    def __len__(self) -> int:
        return len(self.videos)

    def info(self, video_id: str) -> dict:
        return dict(self.videos[video_id].info)

    def has_faces(self, video_id: str) -> bool:
        return video_id in self.videos

    def faces(self, video_id: str) -> FaceTable:
        return self.videos[video_id].table

    def add(self, video: SyntheticFaces) -> None:
        self.videos[video.video_id] = video


def make_face_videos(world: FaceWorld, n_videos: int, *, seed: int, prefix: str = "train", **options) -> list[SyntheticFaces]:
    """`n_videos` videos of `world` named '<prefix><k>.mp4', each with its own seed from `seed`."""
    return [make_face_video(f"{prefix}{k}.mp4", world, seed=seed * 1000 + k, **options) for k in range(n_videos)]
