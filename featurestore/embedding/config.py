"""The embedding config: everything that decides the numbers in a feature vector, and its one identity.

A store holds features of one config; a saved model records the config of its training features; scoring
embeds new videos with that config. All three compare configs with `config_identity` and rebuild an
`EmbeddingConfig` from a stored identity with `EmbeddingConfig.from_identity`, so train and serve cannot drift.
Nothing here imports OpenCV or Keras.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from featurestore.errors import InvalidParameter, WeightsUnavailable

POOLINGS = ("avg", "max", "flatten")
PRECISIONS = ("float32", "bfloat16", "int8")
#: What runs the network: Keras (on KERAS_BACKEND) or OpenVINO (CPU; needs `pip install -e '.[openvino]'`).
RUNTIMES = ("keras", "openvino")
#: How int8 networks are calibrated (embedding/calibration.py): part of an int8 store's identity, so that the
#: same config gives the same features on every run. Change the version when the procedure changes.
CALIBRATION = "nncf-ptq:sklearn-sample-images:64-crops:seed-0:v1"
DEFAULT_IMAGE_SIZE_PX = 224
RANDOM_SEED = 0
PREPROCESS = "resize_area+vgg16.preprocess_input(rgb)"
IMAGENET_NOTOP_FILE = "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"  # the name Keras caches it under

#: The keys of an identity, in the order messages name them; equal identities mean the same features.
IDENTITY_KEYS = ("model", "weights", "pooling", "image_size_px", "n_features", "preprocess", "precision", "calibration")
#: Values of keys that stores and models made before the key existed (or configs that need none) lack.
_IDENTITY_DEFAULTS = {"precision": "float32", "preprocess": PREPROCESS, "calibration": None}


def config_identity(config: dict) -> dict:
    """The settings that decide the numbers, with defaults for keys older stores and models lack.

    Two configs give the same features exactly when their identities are equal.
    """
    return {k: config.get(k, _IDENTITY_DEFAULTS.get(k)) for k in IDENTITY_KEYS}


def identity_differences(a: dict, b: dict) -> list[str]:
    """'pooling 'avg' vs 'max'' for each identity key where `a` and `b` differ (empty: same features)."""
    mine, theirs = config_identity(a), config_identity(b)
    return [f"{k} {mine[k]!r} vs {theirs[k]!r}" for k in IDENTITY_KEYS if mine[k] != theirs[k]]


def imagenet_weights_path() -> Path | None:
    """The ImageNet VGG16 weights file Keras has cached (in $KERAS_HOME or ~/.keras, else /tmp/.keras), or None.

    Looks where `keras.utils.get_file` looks, without importing Keras and without touching the network.
    """
    homes = [Path(os.environ["KERAS_HOME"])] if "KERAS_HOME" in os.environ else [Path.home() / ".keras"]
    homes.append(Path("/tmp/.keras"))  # Keras' fallback when the home folder is not writable
    for home in homes:
        path = home.expanduser() / "models" / IMAGENET_NOTOP_FILE
        if path.is_file() and path.stat().st_size > 0:
            return path
    return None


def n_features_for(pooling: str, image_size_px: int) -> int:
    """Length of one feature vector: 512 for avg/max, (image_size_px // 32)**2 * 512 for flatten."""
    if pooling not in POOLINGS:
        raise InvalidParameter("pooling", f"must be one of {', '.join(POOLINGS)}, got {pooling!r}")
    if image_size_px < 32:
        raise InvalidParameter("image_size_px", f"must be at least 32 (VGG16 halves it five times), got {image_size_px}")
    return 512 if pooling != "flatten" else (image_size_px // 32) ** 2 * 512


def weights_identity(weights: str) -> str:
    """What identifies the weights in a store's config: 'imagenet', 'random:numpy-seed=0' or 'sha256:<hex>' of a file."""
    if weights == "imagenet":
        return "imagenet"
    if weights == "random":  # drawn with NumPy, so every Keras backend gets the same network
        return f"random:numpy-seed={RANDOM_SEED}"
    path = Path(weights)
    if not path.is_file():
        raise WeightsUnavailable(
            f"{weights}: no such weights file; pass --weights imagenet, --weights random or a Keras .h5 weights file"
        )
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            digest.update(block)
    return "sha256:" + digest.hexdigest()


@dataclass(frozen=True)
class EmbeddingConfig:
    """Everything that decides the numbers in a feature vector; one config per store.

    Parameters
    ----------
    weights : str
        'imagenet' (Keras download, cached), 'random' (seeded, not pretrained) or a path to a Keras weights file.
    pooling : {'avg', 'max', 'flatten'}
        avg/max give 512 values; flatten keeps the (image_size_px/32)² × 512 map (25088 at 224 px).
    image_size_px : int
        Frames are resized to image_size_px × image_size_px before VGG16.
    precision : {'float32', 'bfloat16', 'int8'}
        Arithmetic of the network (features differ slightly, so it is part of the config). bfloat16 needs a
        device that computes in it natively; int8 is post-training quantisation by NNCF, calibrated as
        `CALIBRATION` says, and runs on OpenVINO.
    runtime : {'keras', 'openvino'} or ''
        What runs the network; '' is 'openvino' for int8, else 'keras'. Not part of the identity: runtimes
        give the same features (cosine >= 0.9999 to each other), as Keras backends do.
    """

    weights: str = "imagenet"
    pooling: str = "avg"
    image_size_px: int = DEFAULT_IMAGE_SIZE_PX
    precision: str = "float32"
    weights_id: str = field(default="", compare=False)
    runtime: str = ""

    def __post_init__(self) -> None:
        n_features_for(self.pooling, self.image_size_px)  # validates both
        if self.precision not in PRECISIONS:
            raise InvalidParameter("precision", f"must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")
        if not self.runtime:
            object.__setattr__(self, "runtime", "openvino" if self.precision == "int8" else "keras")
        if self.runtime not in RUNTIMES:
            raise InvalidParameter("runtime", f"must be one of {', '.join(RUNTIMES)}, got {self.runtime!r}")
        if self.precision == "int8" and self.runtime != "openvino":
            raise InvalidParameter("runtime", "--precision int8 runs on OpenVINO; use --runtime openvino (the default for int8)")
        if not self.weights_id:
            object.__setattr__(self, "weights_id", weights_identity(self.weights))

    @property
    def n_features(self) -> int:
        return n_features_for(self.pooling, self.image_size_px)

    @property
    def weights_path(self) -> str | None:
        """The absolute path of the weights file (recorded in the store so later runs can name it), else None."""
        return None if self.weights in ("imagenet", "random") else str(Path(self.weights).resolve())

    def identity(self) -> dict:
        """The JSON-able dict a store compares: two runs mix only when these are equal (`config_identity`).

        'precision' appears only when it is not float32, so float32 stores made before it existed stay
        byte-identical; 'calibration' only for int8.
        """
        identity = {
            "model": "vgg16",
            "weights": self.weights_id,
            "pooling": self.pooling,
            "image_size_px": int(self.image_size_px),
            "n_features": int(self.n_features),
            "preprocess": PREPROCESS,
        }
        if self.precision != "float32":
            identity["precision"] = self.precision
        if self.precision == "int8":
            identity["calibration"] = CALIBRATION
        return identity

    @classmethod
    def from_identity(cls, identity: dict, *, weights: str | None = None, weights_path: str | None = None,
                      source: str = "the store", made: str = "embedded", runtime: str = "") -> "EmbeddingConfig":
        """The config whose `identity()` is `identity` (a store's or a saved model's): every key survives.

        Parameters
        ----------
        weights : str, optional
            The weights to use; needed (or `weights_path`) when `identity` names a weights file's digest.
        weights_path : str, optional
            The weights file `source` recorded, used when `weights` is not given.
        source, made : str
            What `identity` comes from and how, for messages ('features.h5', 'embedded'; 'best.skops', 'trained').
        runtime : str
            What runs the network ('': the precision's default).

        Raises
        ------
        WeightsUnavailable
            The weights file is not given, gone, or is not the one `identity` names.
        StoreMismatch
            `identity` names a model or preprocessing this version does not make.
        """
        from featurestore.errors import StoreMismatch

        wanted = config_identity(identity)
        weights_id = str(wanted["weights"])
        if wanted["model"] != "vgg16" or wanted["preprocess"] != PREPROCESS:
            raise StoreMismatch(f"{source}: holds features of {describe_config(identity)} made by "
                                f"{wanted['preprocess']}, which this screentime cannot make; use another store")
        if wanted["precision"] == "int8" and wanted["calibration"] != CALIBRATION:
            raise StoreMismatch(f"{source}: holds int8 features calibrated by {wanted['calibration']}, this screentime "
                                f"calibrates by {CALIBRATION}; use another store")
        if weights is None:
            if weights_id == "imagenet" or weights_id.startswith("random:"):
                weights = weights_id.split(":")[0]
            elif not weights_path or not Path(weights_path).is_file():
                raise WeightsUnavailable(
                    f"{source}: was {made} with the weights file {weights_path or '(not recorded)'} ({weights_id[:19]}...), "
                    "which is not there; pass it with --weights FILE")
            else:
                weights = weights_path
        config = cls(weights=weights, pooling=wanted["pooling"], image_size_px=int(wanted["image_size_px"]),
                     precision=wanted["precision"], runtime=runtime)
        if config.weights_id != weights_id:
            changed = f"has changed since {source} was {made} with it" if weights == weights_path else \
                f"is not the weights {source} was {made} with"
            raise WeightsUnavailable(f"{weights}: {changed} ({weights_id[:19]}... then, {config.weights_id[:19]}... now); "
                                     "pass the original file with --weights FILE")
        return config


def describe_config(config: dict, weights_path: str | None = None) -> str:
    """Short human form of a store config, e.g. 'vgg16 imagenet avg 224 px' (plus ' bfloat16' when it is).

    With `weights_path` (the file a 'sha256:' config came from): 'vgg16 weights file vgg16.weights.h5
    (sha256:1a2b3c4d5e6f...) avg 224 px'.
    """
    weights = str(config.get("weights"))
    if weights_path and weights.startswith("sha256:"):
        weights = f"weights file {weights_path} ({weights[:19]}...)"
    text = f"{config.get('model')} {weights} {config.get('pooling')} {config.get('image_size_px')} px"
    return text + (f" {config['precision']}" if config.get("precision", "float32") != "float32" else "")


def precision_of(config: dict) -> str:
    """The precision a store's or model's config says (float32 when it says none)."""
    return config_identity(config)["precision"]
