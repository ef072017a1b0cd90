"""screentime's feature store: sample videos by their clock, embed frames with VGG16, keep them in HDF5."""

from .embed import POOLINGS, EmbeddingConfig, VGG16Embedder
from .errors import (
    LabelsInvalid,
    LeakySplitRefused,
    ModelFileRefused,
    NotEmbedded,
    ScreentimeError,
    StoreCorrupt,
    StoreFull,
    StoreMismatch,
    StoreUnwritable,
    TooFewSamples,
    VideoDamaged,
    VideoUnreadable,
    WeightsUnavailable,
)
from .decode import DECODE_MODES, AvVideoReader
from .integrity import StoreCheck, repair_store, verify_store
from .labels import read_labels
from .pipeline import EmbedReport, EmbedWarning, embed_videos, resolve_embedding_config
from .sampling import frames_on_screen, sample_times
from .store import FeatureStore, VideoFeatures
from .video import Cv2VideoReader, fingerprint

__all__ = [
    "POOLINGS", "EmbeddingConfig", "VGG16Embedder", "LabelsInvalid", "LeakySplitRefused", "ModelFileRefused", "NotEmbedded",
    "ScreentimeError", "StoreCorrupt", "StoreFull", "StoreMismatch", "StoreUnwritable", "TooFewSamples", "VideoDamaged", "VideoUnreadable",
    "WeightsUnavailable", "EmbedReport", "EmbedWarning", "embed_videos", "frames_on_screen", "sample_times",
    "FeatureStore", "VideoFeatures", "Cv2VideoReader", "fingerprint", "read_labels", "StoreCheck", "verify_store",
    "repair_store", "resolve_embedding_config", "AvVideoReader", "DECODE_MODES",
]
