"""What the Keras rebuilds of the packaged backbones share: the network of a config (its layers, its pooling, its
weights), its ImageNet classifier for the reference check, converted weights kept in a cache, random weights.

Each backbone module (squeezenet.py, efficientnet_lite0.py, mobilenet_v2.py) gives `feature_map(keras, x)` (layers
named as its weights), `logits(keras, feature_map)` and `converted(path)`: the weights file turned into Keras
layouts, by layer name. A conversion is done once per weights file and kept in the cache folder
(``$SCREENTIME_CACHE``, else ``~/.cache/screentime``) as an .npz keyed by the file's SHA-256 and the converter's
version, like the OpenVINO builds (openvino.py); the cache only saves time.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from featurestore.errors import WeightsUnavailable

from . import efficientnet_lite0, mobilenet_v2, squeezenet
from .backbones import BACKBONES, file_sha256
from .backend import dtype_policy, import_keras
from .config import RANDOM_SEED, EmbeddingConfig, screentime_cache

#: Backbone name -> the module that rebuilds it (VGG16 is Keras' own: vgg16.py).
MODULES = {"squeezenet": squeezenet, "efficientnet-lite0": efficientnet_lite0, "mobilenet-v2": mobilenet_v2}
#: Part of the cache key of converted weights: change it when a conversion changes.
CONVERTER_VERSION = 1


def set_random_weights(model, seed: int = RANDOM_SEED) -> None:
    """Glorot-uniform kernels and zero biases (Keras' own initialisers), drawn with NumPy from `seed`; batch
    normalisation keeps Keras' fixed start (scale 1, shift 0, mean 0, variance 1).

    Keras draws random initial weights with each backend's own generator, so the same seed gives another
    network on TensorFlow than on JAX; NumPy's gives one network everywhere.
    """
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if type(layer).__name__ == "BatchNormalization":
            continue
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


def build_backbone(config: EmbeddingConfig, *, top: bool = False):
    """The Keras network of `config` (a packaged backbone): its feature map pooled as `config.pooling` says, or
    with `top` the ImageNet logits; its weights (ImageNet, a file, or seeded random); under its precision's policy."""
    keras = import_keras()
    module = MODULES[config.backbone]
    size = config.image_size_px
    policy = "bfloat16" if config.precision == "bfloat16" and config.runtime == "keras" else "float32"
    with dtype_policy(policy):
        inputs = keras.Input((size, size, 3), name="frames")
        fmap = module.feature_map(keras, inputs)
        if top:
            outputs = module.logits(keras, fmap)
        elif config.pooling == "avg":
            outputs = keras.layers.GlobalAveragePooling2D(name="avg_pool")(fmap)
        elif config.pooling == "max":
            outputs = keras.layers.GlobalMaxPooling2D(name="max_pool")(fmap)
        else:
            outputs = keras.layers.Flatten(name="flatten")(fmap)
        model = keras.Model(inputs, outputs, name=config.backbone.replace("-", "_"))
    if config.weights == "random":
        set_random_weights(model)
    else:
        path = BACKBONES[config.backbone].imagenet_weights() if config.weights == "imagenet" else Path(config.weights)
        load_converted(model, converted_weights(config.backbone, path), path)
    return model


def load_converted(model, weights: dict[str, list[np.ndarray]], source: Path) -> None:
    """Set every layer that has weights from `weights[layer.name]`; WeightsUnavailable naming what is missing."""
    layers = [layer for layer in model.layers if layer.weights]
    missing = [layer.name for layer in layers if layer.name not in weights]
    if missing:
        raise WeightsUnavailable(f"{source}: holds no weights for layers {', '.join(missing[:3])} of {model.name}; "
                                 "pass that network's weights file")
    for layer in layers:
        try:
            layer.set_weights(weights[layer.name])
        except ValueError as err:
            raise WeightsUnavailable(f"{source}: its {layer.name} does not fit {model.name} ({err})") from None


def cache_dir() -> Path:
    return screentime_cache("backbones")


def converted_weights(name: str, path: Path) -> dict[str, list[np.ndarray]]:
    """The weights file at `path` in Keras layouts by layer name: from the cache, else converted and cached."""
    cached = cache_dir() / f"{name}-{file_sha256(path)[:20]}-v{CONVERTER_VERSION}.npz"
    if cached.is_file():
        try:
            with np.load(cached) as npz:
                out: dict[str, list[np.ndarray]] = {}
                for key in npz.files:  # '<layer>:<index>'
                    layer, _, index = key.rpartition(":")
                    out.setdefault(layer, []).append((int(index), npz[key]))
                return {k: [a for _, a in sorted(v, key=lambda p: p[0])] for k, v in out.items()}
        except (OSError, ValueError):
            pass  # a damaged cache entry: convert again
    weights = MODULES[name].converted(path)
    _save(cached, {f"{layer}:{i}": a for layer, arrays in weights.items() for i, a in enumerate(arrays)})
    return weights


def _save(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write the cache entry atomically (a reader sees all of it or none); an unwritable cache only costs time."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".tmp-", suffix=".npz", delete=False) as fh:
            np.savez(fh, **arrays)
        os.replace(fh.name, path)
    except OSError:
        pass
