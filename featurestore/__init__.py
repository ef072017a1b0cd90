"""screentime's feature store: sample videos by their clock, embed frames with VGG16, keep them in HDF5."""

from importlib import import_module

# Names load with their module on first use (PEP 562), so `import featurestore.errors` or the CLI's --help
# does not pay for pandas, h5py or scikit-learn.
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
_WHERE = {name: module for module, names in _MODULES.items() for name in names}
__all__ = list(_WHERE)


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(_WHERE[name], __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_WHERE])
