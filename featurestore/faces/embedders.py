"""Face embedders: aligned face chips -> one descriptor per face, behind one small interface.

An embedder has a `name` (the FaceConfig.embedder it implements), a `dim`, `align(frame, boxes)` (its own
alignment: chips of the size its network takes), `embed_chips(chips)` and `embed(frame, boxes)` (both). Add
another by implementing those and naming it in `build_embedder` and FaceConfig's EMBEDDERS.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from .alignment import FivePointAligner
from .config import FaceConfig, weight_files


class FaceEmbedder(Protocol):
    name: str
    dim: int

    def align(self, frame_rgb: np.ndarray, boxes_px: np.ndarray) -> np.ndarray: ...

    def embed_chips(self, chips: np.ndarray) -> np.ndarray: ...


class DlibResNetEmbedder:
    """dlib's 128-d ResNet face descriptor (99.38% on LFW; same person: Euclidean distance < 0.6; not unit length).

    Runs on NumPy (dlib_resnet.py; BLAS limited to `config.n_threads`) or on dlib itself, in the calling thread,
    as `config.embedder_runtime` says. Cost: see docs/faces.md.
    """

    name = "dlib-resnet"
    dim = 128

    def __init__(self, config: FaceConfig):
        files = weight_files(config)
        self.aligner = FivePointAligner(files["dlib-5-point"])
        self.n_threads = config.n_threads
        if config.embedder_runtime == "numpy":
            from threadpoolctl import ThreadpoolController

            from .dlib_resnet import DlibResNetNumpy

            self._numpy, self._threads = DlibResNetNumpy(files["dlib-resnet"]), ThreadpoolController()
        else:
            import dlib

            self._numpy, self.network = None, dlib.face_recognition_model_v1(str(files["dlib-resnet"]))

    def align(self, frame_rgb: np.ndarray, boxes_px: np.ndarray) -> np.ndarray:
        """(n, 150, 150, 3) uint8 RGB chips aligned by the 5 landmarks dlib's predictor finds in each box."""
        return self.aligner.align(frame_rgb, boxes_px)

    def embed_chips(self, chips: np.ndarray) -> np.ndarray:
        """(n, 128) float32 descriptors of (n, 150, 150, 3) uint8 RGB aligned chips."""
        if len(chips) == 0:
            return np.zeros((0, self.dim), np.float32)
        if self._numpy is not None:
            with self._threads.limit(limits=self.n_threads, user_api="blas"):
                return self._numpy(chips)
        vectors = self.network.compute_face_descriptor([np.ascontiguousarray(c) for c in chips])
        return np.asarray([np.asarray(v) for v in vectors], dtype=np.float32).reshape(len(chips), self.dim)


def build_embedder(config: FaceConfig) -> FaceEmbedder:
    """The embedder `config.embedder` names (FaceConfig validated the name)."""
    return {"dlib-resnet": DlibResNetEmbedder}[config.embedder](config)
