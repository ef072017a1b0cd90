"""Faces found in the decoding pass (`embed --faces`): the analyser a run uses, the samples' faces packed for
checkpoints and back, a video's cuts found in the background, and its FaceTable once every sample is in.

The decoding workers analyse each sampled frame at full resolution (workers.py) and send its `FrameFaces` with
the preprocessed frame; `VideoWork` (work.py) checkpoints both and publishes the video's features and faces
together, or its faces alone for a video stored without them.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from featurestore.faces.analyser import FrameFaces
from featurestore.faces.config import FaceConfig
from featurestore.faces.table import FRAME_COLUMNS, FaceTable
from featurestore.faces.tracks import assemble
from featurestore.video.shots import detect_cuts

#: The arrays of a FrameFaces, as checkpoints store them ('faces_<field>', one row per face).
FIELDS = FRAME_COLUMNS


@dataclass
class FaceAnalysis:
    """How a run finds faces: the face config, the factory each worker process builds its analyser with
    (`make_analyser(config)`, picklable), and the analyser built in this process (it checks the face packages
    are there before any work, and a decoding thread uses it)."""

    config: FaceConfig
    make_analyser: Callable
    analyser: object
    identity: dict  # config.identity(), computed once (it may checksum weights files)

    @classmethod
    def build(cls, config: FaceConfig, make_analyser: Callable, identity: dict | None = None) -> "FaceAnalysis":
        """Build the analyser here; FacesUnavailable (naming the pip install) when the face packages are missing."""
        return cls(config, make_analyser, make_analyser(config), identity or config.identity())

    @property
    def dim(self) -> int:
        return int(self.analyser.embedding_dim)

    def factory(self, processes: bool) -> Callable[[], object]:
        """What a decoding worker calls once to get its analyser: built anew in each process, shared by a thread."""
        if processes:
            return functools.partial(self.make_analyser, self.config)
        return functools.partial(_same, self.analyser)


def _same(analyser):
    return analyser


def pack_faces(faces: list[FrameFaces], dim: int) -> dict[str, np.ndarray]:
    """The faces of n samples as arrays for a checkpoint: 'faces_n' (n,) int64, then 'faces_<field>' by rows."""
    packed = {"faces_n": np.array([len(f.score) for f in faces], np.int64)}
    empty = FrameFaces.empty(dim)
    for name in FIELDS:
        parts = [np.asarray(getattr(f, name), np.float32) for f in faces]
        packed[f"faces_{name}"] = np.concatenate(parts) if parts else np.asarray(getattr(empty, name), np.float32)
    return packed


def unpack_faces(packed: dict[str, np.ndarray]) -> list[FrameFaces]:
    """`pack_faces` undone: one FrameFaces per sample."""
    bounds = np.concatenate([[0], np.cumsum(packed["faces_n"])])
    return [FrameFaces(**{name: packed[f"faces_{name}"][a:b] for name in FIELDS}) for a, b in zip(bounds[:-1], bounds[1:])]


class CutFinder:
    """`detect_cuts` of one video in a background thread of this process, while its samples are decoded."""

    def __init__(self, path):
        self.cuts_s: np.ndarray | None = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(str(path),), name="screentime-cuts", daemon=True)
        self._thread.start()

    def _run(self, path: str) -> None:
        try:
            self.cuts_s = np.asarray(detect_cuts(path), np.float64)
        except BaseException as err:  # noqa: BLE001 -- raised in the main thread by `result`
            self.error = err

    @property
    def is_done(self) -> bool:
        return not self._thread.is_alive()

    def result(self) -> np.ndarray:
        """(k,) float64 cut times, s; waits for the detection to end, raises what it raised."""
        self._thread.join()
        if self.error is not None:
            raise self.error
        return self.cuts_s


def face_table(video_id: str, analysis: FaceAnalysis, sample_times_s: np.ndarray, faces: list[FrameFaces],
               cuts_s: np.ndarray, frame_size: tuple[int, int]) -> FaceTable:
    """The video's FaceTable: shots from `cuts_s`, tracks inside them (`featurestore.faces.tracks.assemble`)."""
    return assemble(video_id, analysis.identity, np.asarray(sample_times_s, np.float64), faces, cuts_s, frame_size)
