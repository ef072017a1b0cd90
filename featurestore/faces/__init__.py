"""Faces in the samples of a video: detection, alignment, face descriptors, quality, tracks (embed --faces).

Light on import: only table.py loads eagerly (the store imports it and may not import OpenCV or dlib); the
config, the analyser and the tracks load on first use.
"""

from featurestore.lazy import lazy_names

from .table import COLUMNS, FaceTable

_lazy, __getattr__, __dir__ = lazy_names(__name__, {
    ".config": ["FaceConfig"],
    ".analyser": ["FaceAnalyser", "FrameFaces", "build_face_analyser"],
    ".tracks": ["assemble", "link_tracks"],
})
__all__ = ["COLUMNS", "FaceTable", *_lazy]
