# STAND-IN for faces-core: replaced at merge
"""The face analyser: one decoded frame in, its faces out (FrameFaces)."""

from __future__ import annotations

import dataclasses
from typing import Protocol

import numpy as np

from featurestore.errors import FacesUnavailable

from .config import FaceConfig


@dataclasses.dataclass
class FrameFaces:
    """The n faces of one frame, by descending detector score; arrays as in FaceTable's columns."""

    box: np.ndarray        # (n, 4) float32, normalised x, y, w, h
    landmarks: np.ndarray  # (n, 6, 2) float32, normalised
    score: np.ndarray      # (n,) float32
    size_px: np.ndarray    # (n,) float32
    sharpness: np.ndarray  # (n,) float32
    quality: np.ndarray    # (n,) float32
    embedding: np.ndarray  # (n, d) float32

    def __len__(self) -> int:
        return len(self.score)

    @classmethod
    def empty(cls, dim: int) -> "FrameFaces":
        z = np.zeros(0, np.float32)
        return cls(np.zeros((0, 4), np.float32), np.zeros((0, 6, 2), np.float32), z, z.copy(), z.copy(), z.copy(),
                   np.zeros((0, dim), np.float32))


class FaceAnalyser(Protocol):
    config: FaceConfig
    embedding_dim: int

    def analyse(self, frame_bgr: np.ndarray) -> FrameFaces: ...


def build_face_analyser(config: FaceConfig) -> FaceAnalyser:
    raise FacesUnavailable("embed --faces needs the face packages, which are not installed: "
                           "pip install 'screentime[faces]'")
