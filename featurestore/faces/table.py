"""FaceTable: the faces found in one video's samples -- one row per face, by sample (time_s, then face).

The contract between the face pipeline (featurestore/faces, embed --faces), the store (store/faces.py,
`FeatureStore.faces(video)`) and the classifiers (compare-models / score --faces). Pure NumPy: no detector,
no store, no classifier here.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np

#: Columns of a FaceTable and their per-row shapes after the row axis (n = number of faces).
COLUMNS: dict[str, tuple] = {
    "time_s": (),           # float64, the sample's time on the video's clock (one of `sample_times_s`)
    "face": (),             # int32, the face's index within its sample: 0, 1, ... by descending detector score
    "box": (4,),            # float32, x, y, w, h of the face box, normalised by the frame's width and height
    "landmarks": (6, 2),    # float32, BlazeFace's 6 keypoints (eyes, nose, mouth, ears) as x, y, normalised
    "score": (),            # float32, the detector's confidence in [0, 1]
    "size_px": (),          # float32, the box's height in the video's pixels
    "sharpness": (),        # float32, variance of the Laplacian of the aligned grey crop (higher: sharper)
    "quality": (),          # float32 in [0, 1], one number from size, sharpness and score; see faces/quality.py
    "shot": (),             # int32, index of the shot (between cuts) the sample lies in: 0, 1, ...
    "track": (),            # int32, the face's track within the video (a track never crosses a cut); -1: none
    "embedding": ("d",),    # float32, the face descriptor (dlib: d = 128, not unit length: norms 1.3-1.5)
}
#: Each column's dtype, little-endian (as the store keeps it, bit for bit): float64, int32 as above, else float32.
DTYPES: dict[str, str] = {name: {"time_s": "<f8", "face": "<i4", "shot": "<i4", "track": "<i4"}.get(name, "<f4")
                          for name in COLUMNS}
#: The columns that key a face (its sample's time, its index there), and those set from the whole video (shots, tracks).
KEY_COLUMNS = ("time_s", "face")
VIDEO_COLUMNS = ("shot", "track")
#: The columns the analyser finds in one frame (FrameFaces' fields; checkpoints' 'faces_<name>'), in COLUMNS' order.
FRAME_COLUMNS = tuple(name for name in COLUMNS if name not in KEY_COLUMNS + VIDEO_COLUMNS)
_TIME_TOLERANCE_S = 1e-6


def column_shape(name: str, dim: int) -> tuple[int, ...]:
    """The per-row shape of column `name` (after the row axis) for `dim`-d embeddings."""
    return tuple(dim if s == "d" else s for s in COLUMNS[name])


@dataclasses.dataclass(frozen=True)
class FaceTable:
    """The faces of one video under one face config. Rows are in sample order: by time_s, then face (the samples of
    a frame held on screen share its time_s, and each numbers its faces from 0 again: `sample` tells them apart).

    `sample_times_s` holds every sampled time, with faces or without, so seconds with nobody are known;
    `cuts_s` the shot boundaries (a shot k spans [cuts_s[k-1], cuts_s[k])); `frame_size` (width, height) px.
    """

    video_id: str
    config: dict                 # the face config's identity (FaceConfig.identity()): detector, embedder, thresholds
    sample_times_s: np.ndarray   # (m,) float64
    cuts_s: np.ndarray           # (k,) float64, times of the cuts on the video's clock
    frame_size: tuple[int, int]  # (width, height) in pixels
    time_s: np.ndarray
    face: np.ndarray
    box: np.ndarray
    landmarks: np.ndarray
    score: np.ndarray
    size_px: np.ndarray
    sharpness: np.ndarray
    quality: np.ndarray
    shot: np.ndarray
    track: np.ndarray
    embedding: np.ndarray

    def __len__(self) -> int:
        return len(self.time_s)

    def __repr__(self) -> str:  # a notebook shows the sizes, not every descriptor
        dim = self.embedding.shape[1] if self.embedding.ndim == 2 else 0
        return (f"<FaceTable {self.video_id!r}: {len(self)} faces in {len(self.sample_times_s)} samples, "
                f"{len(self.cuts_s)} cuts, {dim}-d descriptors, frame {self.frame_size[0]}x{self.frame_size[1]} px>")

    @functools.cached_property
    def sample(self) -> np.ndarray:
        """Each face's sample index, shape (n_faces,) (`sample_of_faces` with the faces' numbers), found once per
        table (scoring, suggesting and clustering each ask for it several times)."""
        return sample_of_faces(self.sample_times_s, self.time_s, self.face)

    def columns(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in COLUMNS}

    def box_px(self) -> np.ndarray:
        """(n, 4) float64: x, y, w, h in the video's pixels."""
        w, h = self.frame_size
        return self.box.astype(np.float64) * np.array([w, h, w, h], dtype=np.float64)

    def take(self, rows) -> "FaceTable":
        """The table restricted to `rows` (a boolean mask or indices)."""
        return dataclasses.replace(self, **{name: col[rows] for name, col in self.columns().items()})


def sample_of_faces(sample_times_s: np.ndarray, time_s: np.ndarray, face: np.ndarray | None = None) -> np.ndarray:
    """Index of each face's sample in `sample_times_s` (faces are stored at sampled times), shape (n_faces,).

    Samples hold one presentation time each, but a frame held on screen longer than the sampling interval (variable
    frame rate: a slide, a stalled phone recording) is the frame of several samples, which then share its time.
    Their faces follow one another in sample order, each sample's numbered from 0 again (`FaceTable`), so `face`
    (each face's index within its sample) tells them apart; without it, they all go to the first such sample.
    """
    sample_times_s = np.asarray(sample_times_s, dtype=np.float64)
    time_s = np.asarray(time_s, dtype=np.float64)
    idx = np.clip(np.searchsorted(sample_times_s, time_s - _TIME_TOLERANCE_S), 0, max(len(sample_times_s) - 1, 0))
    if len(time_s) and np.any(np.abs(sample_times_s[idx] - time_s) > 1e-3):
        raise ValueError("a face's time_s is not one of the table's sample_times_s")
    if face is not None and len(time_s):
        starts = np.cumsum(np.asarray(face) == 0)  # faces numbered 0 so far: each begins a sample's faces
        run = np.flatnonzero(np.r_[True, time_s[1:] != time_s[:-1]])  # first row of each presentation time
        within = starts - starts[run][np.cumsum(np.r_[True, time_s[1:] != time_s[:-1]]) - 1]
        last = np.searchsorted(sample_times_s, time_s + _TIME_TOLERANCE_S, side="right") - 1
        idx = np.minimum(idx + within, last)
    return idx.astype(np.intp)
