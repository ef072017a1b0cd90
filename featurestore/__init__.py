"""screentime's feature store: sample videos by their clock, embed frames with VGG16, keep them in HDF5."""

from .lazy import lazy_names

# Each name loads with its module on first use: see featurestore/lazy.py.
_MODULES = {
    ".embed": ("POOLINGS", "EmbeddingConfig", "VGG16Embedder"),
    ".errors": (
        "LabelsInvalid", "LeakySplitRefused", "ModelFileRefused", "NotEmbedded", "ScreentimeError", "StoreCorrupt",
        "StoreFull", "StoreMismatch", "StoreUnwritable", "TooFewSamples", "VideoDamaged", "VideoUnreadable",
        "WeightsUnavailable",
    ),
    ".pipeline": ("EmbedReport", "EmbedWarning", "embed_videos", "resolve_embedding_config"),
    ".sampling": ("frames_on_screen", "sample_times"),
    ".store": ("FeatureStore", "VideoFeatures"),
    ".video": ("Cv2VideoReader", "fingerprint"),
    ".labels": ("read_labels",),
    ".integrity": ("StoreCheck", "verify_store", "repair_store"),
    ".decode": ("AvVideoReader", "DECODE_MODES"),
}
__all__, __getattr__, __dir__ = lazy_names(__name__, _MODULES)
