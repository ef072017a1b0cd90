# STAND-IN for faces-core: replaced at merge
"""FaceConfig: the settings of the face pipeline (detector, thresholds, embedder) and its one identity."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class FaceConfig:
    """Detector, thresholds and face embedder; every field is JSON-safe."""

    detector: str = "blazeface-full"
    min_score: float = 0.5
    min_size_px: float = 20.0
    embedder: str = "dlib-resnet"

    def identity(self) -> dict:
        """Everything that changes the numbers, as a JSON-safe dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_identity(cls, identity: dict) -> "FaceConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in identity.items() if k in names})
