"""Labelled videos for training: a labels file joined to a store, every stored sample of each video kept.

Per-video stages (normalisation, temporal context) need all of a video's samples, labelled or not, and
held-out scoring runs the whole chain on whole videos; so the videos are kept whole, and the labelled
frames are rows into them. Every stored sample inside a labelled interval is used, whatever the rate
the video was embedded at (embed labelled videos at ``--fps 2`` for twice the training samples).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from classifiers.chain.stages import video_features
from featurestore.errors import MemoryWarning
from featurestore.progress import step
from featurestore.store.store import FeatureStore

from .join import StoreGrids, join_label_tables
from .labels import parse_label_files
from .table import NONE_LABEL


#: What compare-models' libraries (scikit-learn, LightGBM, SciPy, pandas) take before any data, in bytes.
LIBRARIES_BYTES = 500 * 10**6


@dataclass
class StoredVideo:
    """All stored samples of one video: `requested_s` (n,) seconds, `features` (n, n_features) as embedded."""

    video_id: str
    requested_s: np.ndarray
    features: np.ndarray
    duration_s: float
    sample_fps: float


@dataclass
class LabelledVideos:
    """Labelled frames gathered from a store, ordered by video then time.

    Attributes
    ----------
    videos : dict of video_id -> StoredVideo
    video_ids, y : ndarray of shape (n_frames,), str
    rows : ndarray of shape (n_frames,), int
        Position of each labelled frame among its video's stored samples.
    requested_s : ndarray of shape (n_frames,), seconds
    step_s : ndarray of shape (n_frames,), seconds per frame (1 / sample_fps of its video)
    Y : ndarray of shape (n_frames, n_characters), int8, or None
        Multi-label: 1 where that character (of `characters`) is on screen; `y` is then each frame's set of
        characters as one string ('jerry+tom', or `none_label` for none), for display.
    characters : list of str
        Multi-label: the characters, sorted; empty otherwise.
    """

    videos: dict[str, StoredVideo]
    video_ids: np.ndarray
    rows: np.ndarray
    requested_s: np.ndarray
    y: np.ndarray
    step_s: np.ndarray
    Y: np.ndarray | None = None
    characters: list = field(default_factory=list)
    none_label: str = NONE_LABEL
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def is_multi_label(self) -> bool:
        return self.Y is not None

    @property
    def targets(self) -> np.ndarray:
        """What classifiers are fitted on: `Y` (multi-label) or `y`."""
        return self.Y if self.Y is not None else self.y

    @property
    def classes(self) -> list[str]:
        """Column order of predicted probabilities: the characters (multi-label) or the sorted classes."""
        return list(self.characters) if self.is_multi_label else sorted(np.unique(self.y).tolist())

    @property
    def n_features(self) -> int:
        return next(iter(self.videos.values())).features.shape[1]

    def memory_estimate_bytes(self, settings) -> int:
        """About the most memory comparing models on these frames takes, in bytes: the stored videos, the widest
        (feature_norm, context_s) of `settings` staged (3x as wide with a context; one setting is kept at a time)
        beside the unstaged copy the familiarity record takes, three more copies while one is gathered, fitted and
        scored, and `LIBRARIES_BYTES`. Measured: 3.1 GB for 20 labelled 2-hour videos of 512-d (estimate 2.9), 3.0 GB
        for 3 half-hours of 25 088-d (estimate 3.8)."""
        stored = sum(v.features.nbytes for v in self.videos.values())
        one = len(self.y) * self.n_features * 4
        return int(LIBRARIES_BYTES + stored + one * (max(3 if float(k) > 0 else 1 for _, k in settings) + 4))

    def forget_features(self) -> None:
        """Let the cached staged features go (`features` makes them again when asked)."""
        self._cache.clear()

    def features(self, feature_norm: str = "none", context_s: float = 0.0) -> np.ndarray:
        """Labelled frames' features after the per-video stages, shape (n_frames, n_staged_features), float32.

        The stages see every stored sample of each video; the result is cached per setting.
        """
        key = (feature_norm, float(context_s))
        if key not in self._cache:
            parts = []
            for video_id in np.unique(self.video_ids):  # video_ids are sorted: parts follow the frames' order
                v = self.videos[video_id]
                staged = video_features(v.features, v.requested_s, feature_norm=feature_norm, context_s=context_s)
                parts.append(staged[self.rows[self.video_ids == video_id]])
            self._cache[key] = np.ascontiguousarray(np.concatenate(parts), dtype=np.float32)
        return self._cache[key]


def load_labelled_videos(store: FeatureStore, labels_path, *, video=None, classes=None, multi_label: bool = False,
                         none_label: str = NONE_LABEL, grids: StoreGrids | None = None, tables=None,
                         progress=None) -> LabelledVideos:
    """Join a labels file (or several: a path or a sequence of paths) to a store; keep every stored sample
    of each labelled video (each read once).

    With `multi_label`, frames carry sets of characters (`classifiers.data.join.read_labels`). `grids`: a
    `StoreGrids` of `store` the caller already reads videos through, so none is read twice. `tables`: the
    files as `parse_label_files` returned them with these options, when the caller parsed them already.
    `progress` (`featurestore.progress.Progress`) counts the videos read.

    Raises
    ------
    LabelsInvalid, StoreCorrupt
    """
    grids = grids if grids is not None else StoreGrids(store)
    if tables is None:
        tables = parse_label_files(labels_path, video=video, classes=classes, multi_label=multi_label, none_label=none_label)
    with step(progress, "reading the labelled videos' features", None) as advance:
        grids.on_read = advance
        frames = join_label_tables(tables, grids, store_name=Path(store.path).name)
        grids.on_read = None
    frames = frames.sort_values(["video_id", "requested_s"], kind="stable")
    videos = {}
    for video_id in frames["video_id"].unique():
        v = grids.videos[video_id]
        videos[video_id] = StoredVideo(video_id, np.asarray(v.requested_s, dtype=np.float64), np.asarray(v.features),
                                       float(v.info["duration_s"]), float(v.info["sample_fps"]))
    video_ids = frames["video_id"].to_numpy().astype(str)
    Y, characters = None, []
    if multi_label:
        characters = sorted({c for labels in frames["labels"] for c in labels})
        Y = np.array([[c in labels for c in characters] for labels in frames["labels"]], dtype=np.int8).reshape(-1, len(characters))
        y = np.array(["+".join(labels) or none_label for labels in frames["labels"]], dtype=str)
    else:
        y = frames["label"].to_numpy().astype(str)
    return LabelledVideos(
        videos=videos, video_ids=video_ids, rows=frames["row"].to_numpy(dtype=np.intp),
        requested_s=frames["requested_s"].to_numpy(dtype=np.float64), y=y,
        step_s=np.array([1.0 / videos[v].sample_fps for v in video_ids]), Y=Y, characters=characters, none_label=none_label,
    )


def available_memory_bytes() -> int | None:
    """The memory the machine can still give (MemAvailable of /proc/meminfo), in bytes; None where unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def warn_if_memory_short(data: LabelledVideos, settings, store_name: str) -> None:
    """Warn (MemoryWarning), before cross-validation starts, when it would take more memory than is available."""
    need, free = data.memory_estimate_bytes(settings), available_memory_bytes()
    if free is not None and need > free:
        warnings.warn(f"{store_name}: comparing models on {len(data.y):,} labelled frames of {data.n_features:,} features "
                      f"will take about {need / 1e9:,.1f} GB of memory, {free / 1e9:,.1f} GB is available; label fewer "
                      f"videos for now" + (", or embed with --pooling avg (512 features)" if data.n_features > 512 else
                                           ", or run it where more memory is free"), MemoryWarning, stacklevel=3)
