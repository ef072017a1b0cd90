"""dlib's face-recognition ResNet (dlib_face_recognition_resnet_model_v1.dat) run in NumPy, 5-6x faster than
dlib's own CPU code in the dlib-bin wheel, which is built without BLAS (docs/faces.md).

The weights are read from dlib's file as it is: dlib serialises the layers input first, each behind its version
string ('con_4', 'affine_', 'relu_', 'max_pool_2', 'avg_pool_2', 'add_prev_', 'fc_2'), tensors as 4-byte
little-endian floats (dlib/cuda/tensor.h) and integers as a size byte then little-endian bytes (dlib/serialize.h).
The network (dlib's dnn_face_recognition_ex.cpp) is a chain of residual units: conv, affine, relu, conv, affine,
plus the unit's input (average-pooled 2x2 where the unit halves the size), relu; dlib's add_prev zero-pads the
smaller of the two tensors (dlib/cuda/cpu_dlib.cpp: add). Descriptors agree with dlib's to 1e-6 (tested).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

#: The layers this reader understands, and nothing else may appear in the file.
LAYERS = ("input_rgb_image_sized", "con_4", "affine_", "relu_", "max_pool_2", "avg_pool_2", "add_prev_", "fc_2")


class _Reader:
    """dlib's serialisation: integers as a control byte (size in the low nibble, 0x80: negative) + bytes."""

    def __init__(self, data: bytes, pos: int = 0):
        self.data, self.pos = data, pos

    def int(self) -> int:
        control = self.data[self.pos]
        size = control & 0x0F
        value = int.from_bytes(self.data[self.pos + 1 : self.pos + 1 + size], "little")
        self.pos += 1 + size
        return -value if control & 0x80 else value

    def string(self) -> str:
        size = self.int()
        self.pos += size
        return self.data[self.pos - size : self.pos].decode("ascii", "replace")

    def float(self) -> float:  # dlib's portable float: mantissa * 2 ** exponent
        mantissa = self.int()
        return mantissa * 2.0 ** self.int()

    def tensor(self) -> np.ndarray:
        if self.int() != 2:
            raise ValueError("not a dlib tensor (version 2)")
        shape = tuple(self.int() for _ in range(4))
        size = int(np.prod(shape))
        values = np.frombuffer(self.data, "<f4", size, self.pos).astype(np.float32)
        self.pos += 4 * size
        return values


def read_layers(path) -> list[tuple[str, dict]]:
    """(name, details) of every layer of a dlib face ResNet file, input first."""
    import re

    data = Path(path).read_bytes()
    layers = []
    # a layer's version string: 0x01 (one size byte), its length, its name
    for match in re.finditer(rb"\x01([\x03-\x20])([a-z_0-9]{3,32})", data):
        name = match.group(2)[: match.group(1)[0]].decode()
        if name not in LAYERS:
            continue
        reader = _Reader(data, match.start())
        reader.string()
        if name == "con_4":
            params = reader.tensor()
            n_filters, rows, cols, stride, _, pad, _ = (reader.int() for _ in range(7))
            k = (len(params) - n_filters) // (n_filters * rows * cols)
            kernel = params[: n_filters * k * rows * cols].reshape(n_filters, k, rows, cols).transpose(2, 3, 1, 0)
            layers.append((name, {"kernel": np.ascontiguousarray(kernel), "bias": params[n_filters * k * rows * cols :],
                                  "stride": stride, "pad": pad}))
        elif name == "affine_":
            params = reader.tensor()
            layers.append((name, {"gamma": params[: len(params) // 2], "beta": params[len(params) // 2 :]}))
        elif name in ("max_pool_2", "avg_pool_2"):
            rows, cols, stride, _, pad, _ = (reader.int() for _ in range(6))
            layers.append((name, {"size": (rows, cols), "stride": stride, "pad": pad}))
        elif name == "fc_2":
            n_out, n_in = reader.int(), reader.int()
            layers.append((name, {"weights": reader.tensor().reshape(n_in, n_out)}))
        elif name == "input_rgb_image_sized":
            mean_rgb = np.array([reader.float(), reader.float(), reader.float()], np.float32)
            layers.append((name, {"mean_rgb": mean_rgb, "size": (reader.int(), reader.int())}))
        else:
            layers.append((name, {}))
    if not layers or layers[0][0] != "input_rgb_image_sized" or layers[-1][0] != "fc_2":
        raise ValueError(f"{path}: not dlib's face recognition ResNet")
    if any(d.get("pad") for n, d in layers if n.endswith("pool_2")):
        raise ValueError(f"{path}: padded pooling is not implemented")
    return layers


class DlibResNetNumpy:
    """dlib's face ResNet forward pass: (n, 150, 150, 3) uint8 RGB aligned chips -> (n, 128) float32."""

    def __init__(self, path):
        self.layers = read_layers(path)
        self.dim = self.layers[-1][1]["weights"].shape[1]

    def __call__(self, chips_rgb: np.ndarray) -> np.ndarray:
        (_, first), rest = self.layers[0], self.layers[1:]
        x = (np.asarray(chips_rgb, np.float32) - first["mean_rgb"]) / np.float32(256)
        unit_input, unit_starts, previous = None, False, ""
        for name, d in rest:
            if name == "con_4":
                if unit_starts:  # the first conv of a residual unit: keep its input for the shortcut
                    unit_input, unit_starts = x, False
                x = _conv(x, d["kernel"], d["bias"], d["stride"], d["pad"])
            elif name == "affine_":
                x = x * d["gamma"] + d["beta"]
            elif name == "relu_":
                x = np.maximum(x, 0, out=x)
                unit_starts = unit_starts or previous == "add_prev_"
            elif name == "max_pool_2":
                x, unit_starts = _pool(x, d["size"], d["stride"], np.max), True
            elif name == "avg_pool_2" and d["size"] == (0, 0):  # avg_pool_everything
                x = x.mean(axis=(1, 2))
            elif name == "avg_pool_2":  # the shortcut of a unit that halves the size
                unit_input = _pool(unit_input, d["size"], d["stride"], np.mean)
            elif name == "add_prev_":
                x = _add_zero_padded(x, unit_input)
            elif name == "fc_2":
                x = x.reshape(len(x), -1) @ d["weights"]
            previous = name
        return np.asarray(x, np.float32)


def _conv(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray, stride: int, pad: int) -> np.ndarray:
    """(n, h, w, k) * (rows, cols, k, filters) -> (n, h', w', filters), dlib's padding and stride."""
    if pad:
        x = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    windows = sliding_window_view(x, kernel.shape[:2], axis=(1, 2))[:, ::stride, ::stride]
    out = np.tensordot(windows, kernel, axes=([4, 5, 3], [0, 1, 2]))
    return out + bias if len(bias) else out


def _pool(x: np.ndarray, size: tuple[int, int], stride: int, reduce) -> np.ndarray:
    windows = sliding_window_view(x, size, axis=(1, 2))[:, ::stride, ::stride]
    return reduce(windows, axis=(4, 5))


def _add_zero_padded(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a + b, the smaller zero-padded at the end of each axis (dlib's add_prev on unequal shapes)."""
    if a.shape == b.shape:
        return a + b
    out = np.zeros(np.maximum(a.shape, b.shape), np.float32)
    out[tuple(slice(0, n) for n in a.shape)] += a
    out[tuple(slice(0, n) for n in b.shape)] += b
    return out
