"""Faces in the samples of a video: detection, alignment, face descriptors, quality, tracks (embed --faces)."""

from .table import COLUMNS, FaceTable

__all__ = ["COLUMNS", "FaceTable"]
