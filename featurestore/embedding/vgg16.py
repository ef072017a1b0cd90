"""The Keras embedder: loads the network once and turns batches of preprocessed frames into feature vectors;
VGG16 (Keras' own, ImageNet weights downloaded once) and the packaged backbones (keras_build.py).

Keras (on the backend KERAS_BACKEND names, see backend.py) is imported only when an embedder is built, so
the CLI, the store and the classifiers stay quick to import. Preprocessing is plain NumPy/OpenCV
(`featurestore.embedding.preprocess`), so decoding processes never import Keras.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import numpy as np

from featurestore.errors import WeightsUnavailable

from .backbones import BACKBONES, installed_backbones
from .backend import check_precision, compile_forward, current_device, dtype_policy, import_keras
from .config import EmbeddingConfig, imagenet_weights_path
from .keras_build import build_backbone, set_random_weights
from .preprocess import FramePreprocessor, preprocessor_for

_imagenet_failure: str | None = None  # why the download failed in this process: not retried (issue 9)
#: Networks built in this process (tests count them: a run that needs no sample must build none).
BUILDS = {"n": 0}


class VGG16Embedder:
    """A Keras backbone (VGG16 by default; `config.backbone`) without its classifier, loaded once, on the backend
    KERAS_BACKEND names.

    Attributes
    ----------
    config : EmbeddingConfig
    device : str
        'GPU:0 (<name>)' when the backend sees a GPU, else 'CPU'.
    backend : str
        'tensorflow', 'jax' or 'torch'.
    preprocessor : FramePreprocessor
        What decoding processes apply to the frames before `embed` (the backbone's).
    """

    #: `make_embedder` factories that take `batch_size` (the pipeline passes it to these).
    takes_batch_size = True

    def __init__(self, config: EmbeddingConfig, batch_size: int = 32, *, allow_emulated_bfloat16: bool = False):
        import_keras()
        device = current_device()
        check_precision(config.precision, device, allow_emulated=allow_emulated_bfloat16)
        self.config = config
        self.device = device.name
        self.backend = device.backend
        self.runtime = "keras"
        self.preprocessor: FramePreprocessor = preprocessor_for(BACKBONES[config.backbone], config.image_size_px)
        size = config.image_size_px
        self.model = build_network(config)
        # One compiled graph for every batch size: a video's last, shorter batch must not recompile the network.
        self._forward = compile_forward(self.model, (size, size, 3), batch_size)

    def preprocess(self, frames_bgr: list[np.ndarray]) -> np.ndarray:
        """Resize BGR uint8 frames to the network's input and apply its preprocessing (VGG16: `preprocess_input`).

        Returns an array of shape (n, image_size_px, image_size_px, 3), float32.
        """
        return self.preprocessor(frames_bgr)

    def embed(self, batch: np.ndarray) -> np.ndarray:
        """Features of a preprocessed batch: (n, size, size, 3) -> (n, n_features) float32."""
        return self._forward(np.asarray(batch, dtype=np.float32)).reshape(len(batch), -1)


def build_network(config: EmbeddingConfig):
    """The Keras network of `config`: VGG16 or a packaged backbone, pooled, with its weights (counted in BUILDS)."""
    BUILDS["n"] += 1
    return build_vgg16(config) if config.backbone == "vgg16" else build_backbone(config)


def build_vgg16(config: EmbeddingConfig):
    """The Keras VGG16 of `config` (no classifier top; its pooling; its weights; under its precision's dtype policy)."""
    import_keras()
    from keras.applications import vgg16

    size = config.image_size_px
    kwargs = dict(include_top=False, input_shape=(size, size, 3), pooling=None if config.pooling == "flatten" else config.pooling)
    with dtype_policy("bfloat16" if config.precision == "bfloat16" and config.runtime == "keras" else "float32"):
        if config.weights == "imagenet":
            model = _imagenet_vgg16(vgg16, kwargs)
        else:
            model = vgg16.VGG16(weights=None, **kwargs)
            if config.weights == "random":
                set_random_weights(model)
            else:
                _load_weights_file(model, Path(config.weights))
    return model


def check_imagenet_weights(config: EmbeddingConfig) -> None:
    """ImageNet weights that Keras has not cached are fetched now (a small network, the same weights file), so
    that offline the run fails in one line before any work and before a progress bar (issue 18).

    Raises WeightsUnavailable, whose message says what works offline (--weights FILE, --weights random).
    """
    if config.backbone != "vgg16" or config.weights != "imagenet" or imagenet_weights_path() is not None:
        return
    import_keras()
    from keras.applications import vgg16

    _imagenet_vgg16(vgg16, dict(include_top=False, input_shape=(32, 32, 3), pooling=None))


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
    packaged = installed_backbones()  # pretrained offline: docs/embed.md promises to name them
    also = f"; also: {', '.join(packaged[1:])}" if len(packaged) > 1 else ""
    raise WeightsUnavailable(
        f"could not get the ImageNet weights for VGG16 ({_imagenet_failure}, offline?); connect once so Keras can "
        "cache them; offline, pass --weights FILE (a Keras VGG16 weights .h5), --weights random (not pretrained)"
        + (f" or --backbone {packaged[0]} (ImageNet weights installed with screentime{also})" if packaged else "")
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
