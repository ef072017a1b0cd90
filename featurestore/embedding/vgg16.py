"""VGG16 embedder: loads the network once and turns batches of BGR frames into feature vectors.

Keras (on the backend KERAS_BACKEND names, see backend.py) is imported only when an embedder is built, so
the CLI, the store and the classifiers stay quick to import. Preprocessing is plain NumPy/OpenCV
(`VGG16Preprocessor`), so decoding processes never import Keras.
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

from .backend import PRECISIONS, check_precision, compile_forward, current_device, dtype_policy, import_keras
from .errors import WeightsUnavailable

POOLINGS = ("avg", "max", "flatten")
DEFAULT_IMAGE_SIZE_PX = 224
RANDOM_SEED = 0
#: ImageNet mean of the B, G and R channels that `vgg16.preprocess_input` ("caffe" mode) subtracts.
CAFFE_MEAN_BGR = np.array([103.939, 116.779, 123.68], dtype=np.float32)
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
    precision : {'float32', 'bfloat16'}
        Arithmetic of the network (bfloat16: GPUs only; features differ slightly, so it is part of the config).
    """

    weights: str = "imagenet"
    pooling: str = "avg"
    image_size_px: int = DEFAULT_IMAGE_SIZE_PX
    precision: str = "float32"
    weights_id: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        n_features_for(self.pooling, self.image_size_px)  # validates both
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")
        if not self.weights_id:
            object.__setattr__(self, "weights_id", weights_identity(self.weights))

    @property
    def n_features(self) -> int:
        return n_features_for(self.pooling, self.image_size_px)

    def identity(self) -> dict:
        """The JSON-able dict a store compares: two runs mix only when these are equal.

        'precision' appears only for bfloat16, so float32 stores made before it existed stay valid.
        """
        identity = {
            "model": "vgg16",
            "weights": self.weights_id,
            "pooling": self.pooling,
            "image_size_px": int(self.image_size_px),
            "n_features": int(self.n_features),
            "preprocess": "resize_area+vgg16.preprocess_input(rgb)",
        }
        if self.precision != "float32":
            identity["precision"] = self.precision
        return identity


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


@dataclass(frozen=True)
class VGG16Preprocessor:
    """BGR uint8 frames -> VGG16 input, in NumPy and OpenCV only (picklable: decoding processes run it).

    Equal, bit for bit, to resizing with INTER_AREA, converting to RGB and applying Keras'
    `vgg16.preprocess_input` (which turns RGB back into BGR and subtracts the ImageNet mean).
    """
    image_size_px: int

    def __call__(self, frames_bgr: list[np.ndarray]) -> np.ndarray:
        """(n, image_size_px, image_size_px, 3) float32 from n frames of any size."""
        size = self.image_size_px
        batch = np.empty((len(frames_bgr), size, size, 3), dtype=np.float32)
        for i, frame in enumerate(frames_bgr):
            batch[i] = cv2.resize(frame, (size, size), interpolation=cv2.INTER_AREA)
        batch -= CAFFE_MEAN_BGR
        return batch


def set_random_weights(model, seed: int = RANDOM_SEED) -> None:
    """Glorot-uniform kernels and zero biases (Keras' own initialisers), drawn with NumPy from `seed`.

    Keras draws random initial weights with each backend's own generator, so the same seed gives another
    network on TensorFlow than on JAX; NumPy's gives one network everywhere.
    """
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        values = []
        for w in layer.get_weights():
            if w.ndim >= 2:
                receptive = int(np.prod(w.shape[:-2])) if w.ndim > 2 else 1
                limit = np.sqrt(6.0 / (receptive * (w.shape[-2] + w.shape[-1])))
                values.append(rng.uniform(-limit, limit, size=w.shape).astype(w.dtype))
            else:
                values.append(np.zeros_like(w))
        if values:
            layer.set_weights(values)


class VGG16Embedder:
    """Keras VGG16 without its classifier, loaded once, on the backend KERAS_BACKEND names.

    Attributes
    ----------
    config : EmbeddingConfig
    device : str
        'GPU:0 (<name>)' when the backend sees a GPU, else 'CPU'.
    backend : str
        'tensorflow', 'jax' or 'torch'.
    preprocessor : VGG16Preprocessor
        What decoding processes apply to the frames before `embed`.
    """

    def __init__(self, config: EmbeddingConfig, batch_size: int = 32, *, allow_emulated_bfloat16: bool = False):
        import_keras()
        from keras.applications import vgg16

        device = current_device()
        check_precision(config.precision, device, allow_emulated=allow_emulated_bfloat16)
        self.config = config
        self.device = device.name
        self.backend = device.backend
        self.preprocessor = VGG16Preprocessor(config.image_size_px)
        size = config.image_size_px
        kwargs = dict(include_top=False, input_shape=(size, size, 3), pooling=None if config.pooling == "flatten" else config.pooling)
        with dtype_policy(config.precision):
            if config.weights == "imagenet":
                self.model = _imagenet_vgg16(vgg16, kwargs)
            else:
                self.model = vgg16.VGG16(weights=None, **kwargs)
                if config.weights == "random":
                    set_random_weights(self.model)
                else:
                    _load_weights_file(self.model, Path(config.weights))
        # One compiled graph for every batch size: a video's last, shorter batch must not recompile the network.
        self._forward = compile_forward(self.model, (size, size, 3), batch_size)

    @staticmethod
    def preprocessor_for(config: EmbeddingConfig) -> VGG16Preprocessor:
        """The preprocessing an embedder of `config` applies, without loading the network."""
        return VGG16Preprocessor(config.image_size_px)
    def preprocess(self, frames_bgr: list[np.ndarray]) -> np.ndarray:
        """Resize BGR uint8 frames to the network's input and apply `vgg16.preprocess_input` on RGB.

        Returns an array of shape (n, image_size_px, image_size_px, 3), float32.
        """
        return self.preprocessor(frames_bgr)

    def embed(self, batch: np.ndarray) -> np.ndarray:
        """Features of a preprocessed batch: (n, size, size, 3) -> (n, n_features) float32."""
        return self._forward(np.asarray(batch, dtype=np.float32)).reshape(len(batch), -1)


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
