"""The embedding config: everything that decides the numbers in a feature vector, and its one identity.

A store holds features of one config; a saved model records the config of its training features; scoring
embeds new videos with that config. All three compare configs with `config_identity` and rebuild an
`EmbeddingConfig` from a stored identity with `EmbeddingConfig.from_identity`, so train and serve cannot drift.
Nothing here imports OpenCV or Keras.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from featurestore.errors import InvalidParameter, WeightsUnavailable

from .backbones import BACKBONES, DEFAULT_BACKBONE, PREPROCESS_VGG16, backbone, backbone_of_model, file_sha256

POOLINGS = ("avg", "max", "flatten")
BACKBONE_NAMES = tuple(BACKBONES)  # what --backbone takes
PRECISIONS = ("float32", "bfloat16", "int8")
#: What runs the network: Keras (on KERAS_BACKEND) or OpenVINO (CPU; needs `pip install -e '.[openvino]'`).
RUNTIMES = ("keras", "openvino")
#: How int8 networks are calibrated (embedding/calibration.py): part of an int8 store's identity, so that the
#: same config gives the same features on every run. Change the version when the procedure changes.
CALIBRATION = "nncf-ptq:sklearn-sample-images-64-crops+synthetic-64:seed-0:v2"
DEFAULT_IMAGE_SIZE_PX = 224
RANDOM_SEED = 0

PREPROCESS = PREPROCESS_VGG16  # VGG16's; each backbone's is `Backbone.preprocess`
IMAGENET_NOTOP_FILE = "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"  # the name Keras caches it under

#: The keys of an identity, in the order messages name them; equal identities mean the same features.
IDENTITY_KEYS = ("model", "weights", "pooling", "image_size_px", "n_features", "preprocess", "precision", "calibration")
#: Values of keys that stores and models made before the key existed (or configs that need none) lack.
_IDENTITY_DEFAULTS = {"precision": "float32", "preprocess": PREPROCESS, "calibration": None}


def screentime_cache(sub: str) -> Path:
    """Where converted weights and compiled networks are kept: $SCREENTIME_CACHE or ~/.cache/screentime, then `sub`."""
    return Path(os.environ.get("SCREENTIME_CACHE") or Path.home() / ".cache" / "screentime") / sub


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


def n_features_for(pooling: str, image_size_px: int, backbone_name: str = DEFAULT_BACKBONE) -> int:
    """Length of one feature vector: the backbone's channels for avg/max (VGG16: 512), the whole map for flatten
    (VGG16: (image_size_px // 32)**2 * 512)."""
    if pooling not in POOLINGS:
        raise InvalidParameter("pooling", f"must be one of {', '.join(POOLINGS)}, got {pooling!r}")
    if image_size_px < 32:
        raise InvalidParameter("image_size_px", f"must be at least 32 (the networks halve it five times), got {image_size_px}")
    return backbone(backbone_name).n_features(pooling, image_size_px)


def weights_identity(weights: str, backbone_name: str = DEFAULT_BACKBONE) -> str:
    """What identifies the weights in a store's config: 'imagenet' (VGG16's from Keras), 'imagenet:sha256:<hex>'
    (a packaged backbone's, checked), 'random:numpy-seed=0' or 'sha256:<hex>' of a weights file."""
    net = backbone(backbone_name)
    if weights == "imagenet":
        return f"imagenet:sha256:{file_sha256(net.imagenet_weights())}" if net.is_packaged else "imagenet"
    if weights == "random":  # drawn with NumPy, so every Keras backend gets the same network
        return f"random:numpy-seed={RANDOM_SEED}"
    if weights == "auto":
        raise ValueError("--weights auto is resolved before a config is made (featurestore.embedding.auto)")
    path = Path(weights)
    if not path.is_file():
        kind = "a Keras .h5 weights file" if net.name == "vgg16" else f"a {net.name} weights file"
        raise WeightsUnavailable(f"{weights}: no such weights file; pass --weights imagenet, --weights random or {kind}")
    return "sha256:" + file_sha256(path)


@dataclass(frozen=True)
class EmbeddingConfig:
    """Everything that decides the numbers in a feature vector; one config per store.

    Parameters
    ----------
    weights : str
        'imagenet' (VGG16: Keras download, cached; other backbones: the weights their pip package ships), 'random'
        (seeded, not pretrained) or a path to a weights file (VGG16: Keras .h5; others: their package's format).
    pooling : {'avg', 'max', 'flatten'}
        avg/max give one value per channel (VGG16 512); flatten keeps the whole map (VGG16: 25088 at 224 px).
    image_size_px : int
        Frames are resized to image_size_px × image_size_px before the network.
    precision : {'float32', 'bfloat16', 'int8'}
        Arithmetic of the network (features differ slightly, so it is part of the config). bfloat16 needs a
        device that computes in it natively; int8 is post-training quantisation by NNCF, calibrated as
        `CALIBRATION` says, and runs on OpenVINO.
    runtime : {'keras', 'openvino'} or ''
        What runs the network; '' is 'openvino' for int8, else 'keras'. Not part of the identity: runtimes
        give the same features (cosine >= 0.9999 to each other), as Keras backends do.
    backbone : str
        The network (`featurestore.embedding.backbones.BACKBONES`): 'vgg16' (default), 'squeezenet',
        'efficientnet-lite0', 'mobilenet-v2'.
    """

    weights: str = "imagenet"
    pooling: str = "avg"
    image_size_px: int = DEFAULT_IMAGE_SIZE_PX
    precision: str = "float32"
    weights_id: str = field(default="", compare=False)
    runtime: str = ""
    backbone: str = DEFAULT_BACKBONE

    def __post_init__(self) -> None:
        n_features_for(self.pooling, self.image_size_px, self.backbone)  # validates all three
        if self.precision not in PRECISIONS:
            raise InvalidParameter("precision", f"must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")
        if not self.runtime:
            object.__setattr__(self, "runtime", "openvino" if self.precision == "int8" else "keras")
        if self.runtime not in RUNTIMES:
            raise InvalidParameter("runtime", f"must be one of {', '.join(RUNTIMES)}, got {self.runtime!r}")
        if self.precision == "int8" and self.runtime != "openvino":
            raise InvalidParameter("runtime", "--precision int8 runs on OpenVINO; use --runtime openvino (the default for int8)")
        if not self.weights_id:
            object.__setattr__(self, "weights_id", weights_identity(self.weights, self.backbone))

    @property
    def n_features(self) -> int:
        return n_features_for(self.pooling, self.image_size_px, self.backbone)

    @property
    def weights_path(self) -> str | None:
        """The absolute path of the weights file (recorded in the store so later runs can name it), else None."""
        return None if self.weights in ("imagenet", "random") else str(Path(self.weights).resolve())

    def identity(self) -> dict:
        """The JSON-able dict a store compares: two runs mix only when these are equal (`config_identity`).

        'precision' appears only when it is not float32, so float32 stores made before it existed stay
        byte-identical; 'calibration' only for int8.
        """
        net = BACKBONES[self.backbone]
        identity = {
            "model": net.model,
            "weights": self.weights_id,
            "pooling": self.pooling,
            "image_size_px": int(self.image_size_px),
            "n_features": int(self.n_features),
            "preprocess": net.preprocess,
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
        net = backbone_of_model(str(wanted["model"]))
        if net is None or wanted["preprocess"] != net.preprocess:
            raise StoreMismatch(f"{source}: holds features of {describe_config(identity)} made by "
                                f"{wanted['preprocess']}, which this screentime cannot make; use another store")
        if wanted["precision"] == "int8" and wanted["calibration"] != CALIBRATION:
            raise StoreMismatch(f"{source}: holds int8 features calibrated by {wanted['calibration']}, this screentime "
                                f"calibrates by {CALIBRATION}; use another store")
        if weights is None:
            if weights_id.split(":")[0] in ("imagenet", "random"):
                weights = weights_id.split(":")[0]
            elif not weights_path or not Path(weights_path).is_file():
                raise WeightsUnavailable(
                    f"{source}: was {made} with the weights file {weights_path or '(not recorded)'} ({weights_id[:19]}...), "
                    "which is not there; pass it with --weights FILE")
            else:
                weights = weights_path
        config = cls(weights=weights, pooling=wanted["pooling"], image_size_px=int(wanted["image_size_px"]),
                     precision=wanted["precision"], runtime=runtime, backbone=net.name)
        if config.weights_id != weights_id:
            changed = f"has changed since {source} was {made} with it" if weights == weights_path else \
                f"is not the weights {source} was {made} with"
            raise WeightsUnavailable(f"{weights}: {changed} ({weights_id[:19]}... then, {config.weights_id[:19]}... now); "
                                     "pass the original file with --weights FILE")
        return config


def describe_config(config: dict, weights_path: str | None = None) -> str:
    """Short human form of a store config, e.g. 'vgg16 imagenet avg 224 px' (plus ' bfloat16' when it is;
    'efficientnet-lite0 imagenet avg 224 px' for a packaged backbone's checked weights).

    With `weights_path` (the file a 'sha256:' config came from): 'vgg16 weights file vgg16.weights.h5
    (sha256:1a2b3c4d5e6f...) avg 224 px'.
    """
    weights = str(config.get("weights"))
    if weights_path and weights.startswith("sha256:"):
        weights = f"weights file {weights_path} ({weights[:19]}...)"
    elif weights.startswith("imagenet:"):
        weights = "imagenet"
    text = f"{config.get('model')} {weights} {config.get('pooling')} {config.get('image_size_px')} px"
    return text + (f" {config['precision']}" if config.get("precision", "float32") != "float32" else "")


def precision_of(config: dict) -> str:
    """The precision a store's or model's config says (float32 when it says none)."""
    return config_identity(config)["precision"]
