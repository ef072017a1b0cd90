# STAND-IN for faces-core: replaced at merge
"""Faces linked into tracks inside a shot, and the FaceTable of a video assembled from its frames' faces."""

from __future__ import annotations

import numpy as np

from .table import FaceTable


def link_tracks(time_s, box, embedding, shot) -> np.ndarray:
    """(n,) int32 track ids; the stand-in links nothing (-1)."""
    return np.full(len(time_s), -1, np.int32)


def assemble(video_id: str, identity: dict, sample_times_s, frames, cuts_s, frame_size) -> FaceTable:
    """The FaceTable of one video from the FrameFaces of each sample (in sample order)."""
    sample_times_s = np.asarray(sample_times_s, np.float64)
    cuts_s = np.asarray(cuts_s, np.float64)
    counts = np.array([len(f.score) for f in frames], np.int64)
    time_s = np.repeat(sample_times_s, counts)
    face = np.concatenate([np.arange(n, dtype=np.int32) for n in counts]) if len(counts) else np.zeros(0, np.int32)
    dim = frames[0].embedding.shape[1] if frames else 128

    def cat(name, shape):
        parts = [np.asarray(getattr(f, name), np.float32) for f in frames]
        return np.concatenate(parts) if parts else np.zeros((0, *shape), np.float32)

    box, embedding = cat("box", (4,)), cat("embedding", (dim,))
    shot = np.searchsorted(cuts_s, time_s, side="right").astype(np.int32)
    return FaceTable(video_id, dict(identity), sample_times_s, cuts_s, (int(frame_size[0]), int(frame_size[1])),
                     time_s, face.astype(np.int32), box, cat("landmarks", (6, 2)), cat("score", ()), cat("size_px", ()),
                     cat("sharpness", ()), cat("quality", ()), shot, link_tracks(time_s, box, embedding, shot), embedding)
