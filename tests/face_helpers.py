"""Hand-made face tables for the face classifier tests: a few faces with chosen descriptors, boxes and tracks."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cartoons.synthetic_faces import CONFIG, DIM, SyntheticFaceStore, unit
from featurestore.faces.table import FaceTable


@dataclass
class Face:
    """One face: at sample time `t`, descriptor `emb`, on `track`, box x, y, w, h (normalised)."""

    t: float
    emb: np.ndarray
    track: int = -1
    box: tuple = (0.1, 0.1, 0.2, 0.3)
    quality: float = 0.9


@dataclass
class HandVideo:
    """A video for `SyntheticFaceStore`: its table and stored info."""

    table: FaceTable
    info: dict = field(default_factory=dict)

    @property
    def video_id(self) -> str:
        return self.table.video_id


def people(n: int, seed: int = 0) -> np.ndarray:
    """`n` unit descriptors about 1 apart, shape (n, DIM)."""
    rng = np.random.default_rng(seed)
    common = unit(rng.normal(size=DIM))
    return unit(common + 0.9 * unit(rng.normal(size=(n, DIM))))


def near(centre: np.ndarray, seed: int, noise: float = 0.2) -> np.ndarray:
    """A face of the person at `centre`: a little noise, unit length."""
    return unit(centre + noise * unit(np.random.default_rng(seed).normal(size=DIM)))


def face_table(video_id: str, n_samples: int, faces: list[Face], *, config: dict = CONFIG, frame_size=(640, 360),
               cuts_s=(), sample_fps: float = 1.0) -> FaceTable:
    """A FaceTable of samples k / sample_fps, k < n_samples, holding `faces` (sorted, face index by order given)."""
    faces = sorted(faces, key=lambda f: f.t)
    index = np.zeros(len(faces), np.int32)
    for k in range(1, len(faces)):
        index[k] = index[k - 1] + 1 if faces[k].t == faces[k - 1].t else 0
    times = np.arange(n_samples) / sample_fps
    box = np.array([f.box for f in faces], np.float32).reshape(-1, 4)
    q = np.array([f.quality for f in faces], np.float32)
    cuts = np.asarray(cuts_s, np.float64)
    t = np.array([f.t for f in faces], np.float64)
    return FaceTable(video_id=video_id, config=dict(config), sample_times_s=times, cuts_s=cuts, frame_size=tuple(frame_size),
                     time_s=t, face=index, box=box, landmarks=np.zeros((len(faces), 6, 2), np.float32), score=q,
                     size_px=box[:, 3] * frame_size[1], sharpness=q * 100, quality=q,
                     shot=np.searchsorted(cuts, t, side="right").astype(np.int32),
                     track=np.array([f.track for f in faces], np.int32),
                     embedding=np.array([f.emb for f in faces], np.float32).reshape(-1, DIM))


def hand_store(*tables: FaceTable, fps: float = 25.0, sample_fps: float = 1.0, source_path=None) -> SyntheticFaceStore:
    """A stand-in store of `tables`, each video as long as its samples."""
    videos = [HandVideo(t, {"duration_s": len(t.sample_times_s) / sample_fps, "sample_fps": sample_fps, "fps": fps,
                            "source_path": source_path, "fingerprint": None}) for t in tables]
    return SyntheticFaceStore(videos)


def write_csv(path, header: str, rows: list[str]):
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path
