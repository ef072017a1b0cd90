"""screentime's feature store: sample videos by their clock, embed frames with VGG16, keep them in HDF5.

Rooms: `video/` (reading video), `embedding/` (frames to vectors), `store/` (keeping vectors), `runners/`
(running the work); `pipeline.embed_videos` ties them together, `errors` holds every error and warning.
"""

from .lazy import lazy_names

# Each name loads with its module on first use: see featurestore/lazy.py.
_MODULES = {
    ".embedding.config": ("POOLINGS", "PRECISIONS", "EmbeddingConfig", "config_identity"),
    ".embedding.vgg16": ("VGG16Embedder",),
    ".errors": (
        "EmbedWarning", "InvalidParameter", "LabelsInvalid", "LeakySplitRefused", "ModelFileRefused", "NotEmbedded",
        "FacesUnavailable", "OutputRefused", "ScreentimeError", "StoreBusy", "StoreCorrupt", "StoreFull", "StoreMismatch",
        "StoreUnwritable", "TooFewSamples", "VideoDamaged", "VideoUnreadable", "WeightsUnavailable",
    ),
    ".faces.config": ("FaceConfig",),
    ".faces.table": ("FaceTable",),
    ".pipeline": ("check_embed_paths", "embed_videos", "resolve_embedding_config", "resolve_face_config"),
    ".runners.work": ("EmbedReport",),
    ".video.clock": ("frames_on_screen", "sample_times"),
    ".store.store": ("FeatureStore", "VideoFeatures"),
    ".video.opencv": ("Cv2VideoReader",),
    ".video.paths": ("fingerprint",),
    ".store.integrity": ("StoreCheck", "verify_store", "repair_store"),
    ".video.pyav": ("AvVideoReader", "DECODE_MODES"),
}
__all__, __getattr__, __dir__ = lazy_names(__name__, _MODULES)
