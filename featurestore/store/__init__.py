"""Vectors kept safe: the store (`store.FeatureStore`), its files (`layout`), index, shards, checkpoints, locks, the
leftover sweep and integrity checks, one concept per module (as h5py's `_hl/`). Nothing here imports OpenCV, Keras
or the runners."""

from featurestore.lazy import lazy_names

_MODULES = {
    ".store": ("FeatureStore", "VideoFeatures"),
    ".integrity": ("StoreCheck", "repair_store", "verify_store"),
}
__all__, __getattr__, __dir__ = lazy_names(__name__, _MODULES)
