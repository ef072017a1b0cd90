"""Labelled frames for training: a labels file joined to a store, features normalised per video."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from classifiers.features import normalize_video
from featurestore.labels import StoreGrids, join_labels, parse_labels
from featurestore.store import FeatureStore


@dataclass
class LabelledFrames:
    """Labelled frames gathered from a store: X (n, n_features) float32, y/video_ids (n,) str,
    requested_s (n,) seconds, step_s (n,) seconds per frame (1 / sample_fps)."""

    X: np.ndarray
    y: np.ndarray
    video_ids: np.ndarray
    requested_s: np.ndarray
    step_s: np.ndarray


def load_labelled_variants(store: FeatureStore, labels_path, *, video=None, classes=None,
                           feature_norms: Sequence[str] = ("none",)) -> dict[str, LabelledFrames]:
    """Join a labels file to a store and gather the labelled frames, once per per-video normalisation.

    Each video is read once; its features are normalised over all of its stored samples (labelled or
    not) with each of `feature_norms`. Returns feature_norm -> LabelledFrames, frames ordered by video
    then time.
    """
    grids = StoreGrids(store)
    frames = join_labels(parse_labels(labels_path, video=video, classes=classes), grids, store_name=Path(store.path).name)
    features: dict[str, list[np.ndarray]] = {norm: [] for norm in feature_norms}
    step_s = []
    for video_id, rows in frames.groupby("video_id", sort=True):
        v = grids.videos[video_id]
        for norm in feature_norms:
            features[norm].append(normalize_video(v.features, norm)[rows["row"].to_numpy()])
        step_s.append(np.full(len(rows), 1.0 / float(v.info["sample_fps"])))
    frames = frames.sort_values(["video_id", "requested_s"], kind="stable")
    y = frames["label"].to_numpy().astype(str)
    video_ids = frames["video_id"].to_numpy().astype(str)
    requested_s = frames["requested_s"].to_numpy(dtype=np.float64)
    step_s = np.concatenate(step_s)
    return {norm: LabelledFrames(X=np.ascontiguousarray(np.concatenate(parts), dtype=np.float32), y=y, video_ids=video_ids,
                                 requested_s=requested_s, step_s=step_s)
            for norm, parts in features.items()}
