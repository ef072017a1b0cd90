"""SqueezeNet v1.1 in Keras, with the ImageNet weights the `ndf` package ships (a pickle of NumPy arrays, Keras
layouts), as ndf's own NumPy network computes it: conv1 3x3/2 'same', three 3x3/2 max pools, eight fire modules.

Features are fire9's 512 channels (13 x 13 at 224 px), before the classifier (conv10, 1000 classes).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .torch_state import read_pickled_arrays

#: (name, squeeze, expand 1x1, expand 3x3) of each fire module; a max pool before fire4 and fire6.
FIRES = (("fire2", 16, 64, 64), ("fire3", 16, 64, 64), ("fire4", 32, 128, 128), ("fire5", 32, 128, 128),
         ("fire6", 48, 192, 192), ("fire7", 48, 192, 192), ("fire8", 64, 256, 256), ("fire9", 64, 256, 256))


def feature_map(keras, x):
    """(n, px, px, 3) caffe-preprocessed BGR -> fire9's (n, m, m, 512) map."""
    layers = keras.layers
    x = layers.Conv2D(64, 3, strides=2, padding="same", activation="relu", name="conv1")(x)
    for name, squeeze, e1, e3 in FIRES:
        if name in ("fire2", "fire4", "fire6"):
            x = layers.MaxPooling2D(3, strides=2, name=f"pool_{name}")(x)
        s = layers.Conv2D(squeeze, 1, activation="relu", name=f"{name}_squeeze1x1")(x)
        x = layers.Concatenate(name=f"{name}_concat")([
            layers.Conv2D(e1, 1, activation="relu", name=f"{name}_expand1x1")(s),
            layers.Conv2D(e3, 3, padding="same", activation="relu", name=f"{name}_expand3x3")(s)])
    return x


def logits(keras, fmap):
    """ImageNet logits as ndf computes them: conv10 (no ReLU in ndf), averaged over the map."""
    x = keras.layers.Conv2D(1000, 1, name="conv10")(fmap)
    return keras.layers.GlobalAveragePooling2D(name="avg_conv10")(x)


def converted(path: Path) -> dict[str, list[np.ndarray]]:
    """ndf's weights pickle {'fire2/squeeze1x1': [kernel HWIO, bias], ...} by Keras layer name."""
    return {name.replace("/", "_"): [np.asarray(a, dtype=np.float32) for a in arrays]
            for name, arrays in read_pickled_arrays(path).items()}
