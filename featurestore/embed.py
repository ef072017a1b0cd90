"""VGG16 embedder: loads the network once and turns batches of BGR frames into feature vectors.

TensorFlow is imported only when an embedder is built, so the CLI, the store and the classifiers stay
quick to import.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from .errors import WeightsUnavailable

POOLINGS = ("avg", "max", "flatten")
DEFAULT_IMAGE_SIZE_PX = 224
RANDOM_SEED = 0
IMAGENET_NOTOP_FILE = "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"  # the name Keras caches it under

_imagenet_failure: str | None = None  # why the download failed in this process: not retried (issue 9)


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
        raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
    if image_size_px < 32:
        raise ValueError(f"image_size_px must be at least 32 (VGG16 halves it five times), got {image_size_px}")
    return 512 if pooling != "flatten" else (image_size_px // 32) ** 2 * 512


def weights_identity(weights: str) -> str:
    """What identifies the weights in a store's config: 'imagenet', 'random:seed=0' or 'sha256:<hex>' of a file."""
    if weights == "imagenet":
        return "imagenet"
    if weights == "random":
        return f"random:seed={RANDOM_SEED}"
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
    """

    weights: str = "imagenet"
    pooling: str = "avg"
    image_size_px: int = DEFAULT_IMAGE_SIZE_PX
    weights_id: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        n_features_for(self.pooling, self.image_size_px)  # validates both
        if not self.weights_id:
            object.__setattr__(self, "weights_id", weights_identity(self.weights))

    @property
    def n_features(self) -> int:
        return n_features_for(self.pooling, self.image_size_px)

    def identity(self) -> dict:
        """The JSON-able dict a store compares: two runs mix only when these are equal."""
        return {
            "model": "vgg16",
            "weights": self.weights_id,
            "pooling": self.pooling,
            "image_size_px": int(self.image_size_px),
            "n_features": int(self.n_features),
            "preprocess": "resize_area+vgg16.preprocess_input(rgb)",
        }


def describe_config(config: dict, weights_path: str | None = None) -> str:
    """Short human form of a store config, e.g. 'vgg16 imagenet avg 224 px'.

    With `weights_path` (the file a 'sha256:' config came from): 'vgg16 weights file vgg16.weights.h5
    (sha256:1a2b3c4d5e6f...) avg 224 px'.
    """
    weights = str(config.get("weights"))
    if weights_path and weights.startswith("sha256:"):
        weights = f"weights file {weights_path} ({weights[:19]}...)"
    return f"{config.get('model')} {weights} {config.get('pooling')} {config.get('image_size_px')} px"


def _import_tensorflow():
    """Import TensorFlow with its C++ start-up chatter (CUDA probing on CPU machines) kept off stderr."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # oneDNN kernels are off by default on non-Intel CPUs; on a 2-core AMD EPYC they cut VGG16's CPU time ~15%
    # (bench/embed.py). Read once, at import; set TF_ENABLE_ONEDNN_OPTS=0 to opt out.
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"], sys.modules["tensorflow"].config.list_physical_devices("GPU")
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
    return tf, gpus


class VGG16Embedder:
    """Keras VGG16 without its classifier, loaded once.

    Attributes
    ----------
    config : EmbeddingConfig
    device : str
        'GPU:0 (<name>)' when TensorFlow sees a GPU, else 'CPU'.
    """

    def __init__(self, config: EmbeddingConfig):
        tf, gpus = _import_tensorflow()
        import keras
        from keras.applications import vgg16

        self.config = config
        self._preprocess = vgg16.preprocess_input
        self.device = f"GPU:0 ({gpus[0].name})" if gpus else "CPU"
        size = config.image_size_px
        kwargs = dict(include_top=False, input_shape=(size, size, 3), pooling=None if config.pooling == "flatten" else config.pooling)
        if config.weights == "imagenet":
            self.model = _imagenet_vgg16(vgg16, kwargs)
        elif config.weights == "random":
            keras.utils.set_random_seed(RANDOM_SEED)
            self.model = vgg16.VGG16(weights=None, **kwargs)
        else:
            self.model = vgg16.VGG16(weights=None, **kwargs)
            _load_weights_file(self.model, Path(config.weights))
        # One graph for every batch size: a video's last, shorter batch must not retrace the network.
        self._tf = tf
        self._forward = tf.function(lambda x: self.model(x, training=False),
                                    input_signature=[tf.TensorSpec((None, size, size, 3), tf.float32)])

    def preprocess(self, frames_bgr: list[np.ndarray]) -> np.ndarray:
        """Resize BGR uint8 frames to the network's input and apply `vgg16.preprocess_input` on RGB.

        Returns an array of shape (n, image_size_px, image_size_px, 3), float32.
        """
        size = self.config.image_size_px
        batch = np.empty((len(frames_bgr), size, size, 3), dtype=np.float32)
        for i, frame in enumerate(frames_bgr):
            small = cv2.resize(frame, (size, size), interpolation=cv2.INTER_AREA)
            batch[i] = cv2.cvtColor(small, cv2.COLOR_BGR2RGB)
        return self._preprocess(batch)

    def embed(self, batch: np.ndarray) -> np.ndarray:
        """Features of a preprocessed batch: (n, size, size, 3) -> (n, n_features) float32."""
        features = self._forward(self._tf.convert_to_tensor(batch, dtype=self._tf.float32))
        return np.asarray(features, dtype=np.float32).reshape(len(batch), -1)


def _imagenet_vgg16(vgg16, kwargs: dict):
    """VGG16 with the ImageNet weights, downloaded by Keras once if not cached; WeightsUnavailable if that fails.

    Keras reports its download ("Downloading data from https://...", a progress bar) on stdout, which is
    for results: it goes to stderr. A failed download is remembered and not retried in this process.
    """
    global _imagenet_failure
    if _imagenet_failure is None:
        try:
            with contextlib.redirect_stdout(sys.stderr):
                return vgg16.VGG16(weights="imagenet", **kwargs)
        except Exception as err:  # Keras raises a bare Exception("URL fetch failure ...") offline
            _imagenet_failure = str(err).split(" on ")[0][:80]
    raise WeightsUnavailable(
        f"could not get the ImageNet weights for VGG16 ({_imagenet_failure}, offline?); "
        "connect once so Keras can cache them, or pass --weights FILE (a Keras VGG16 weights .h5)"
    )


def _load_weights_file(model, path: Path) -> None:
    """Load a `.weights.h5` (Keras 3) or Keras 2 `.h5` file, with or without the top layers."""
    convs = [layer for layer in model.layers if layer.weights]
    before = [layer.get_weights()[0].copy() for layer in convs]
    try:
        model.load_weights(str(path))
    except Exception as first:
        if path.name.endswith(".weights.h5"):
            raise WeightsUnavailable(f"{path}: not VGG16 weights for this network ({first})") from None
        try:  # a Keras 2 file of the full network: take the convolution layers by name
            model.load_weights(str(path), by_name=True)
        except Exception as err:
            raise WeightsUnavailable(f"{path}: cannot load as VGG16 weights ({err})") from None
    missing = [layer.name for layer, w in zip(convs, before) if np.array_equal(layer.get_weights()[0], w)]
    if missing:
        raise WeightsUnavailable(f"{path}: holds no weights for VGG16 layers {', '.join(missing[:3])}...; pass a VGG16 weights file")
