"""The Keras backend: importing it quietly, naming its device, and a compiled forward pass for each backend.

Keras 3 runs the same VGG16 on TensorFlow (default), JAX or PyTorch, chosen by the ``KERAS_BACKEND``
environment variable before Keras is imported. Everything specific to one of those libraries lives in this
module (only the environment a Ray worker starts with is set in featurestore/runners/cluster.py); the rest speaks Keras and NumPy.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from featurestore.errors import BackendUnavailable, PrecisionUnsupported

from .config import PRECISIONS
from .cpu import cpu_model, native_bfloat16

BACKENDS = ("tensorflow", "jax", "torch")
#: Distribution names of each backend, recorded with the features it made.
BACKEND_LIBRARIES = {"tensorflow": ("tensorflow",), "jax": ("jax", "jaxlib"), "torch": ("torch",),
                     "openvino": ("openvino", "nncf")}


@dataclass(frozen=True)
class Device:
    """Where Keras computes: backend name, a readable device ('CPU', 'GPU:0 (NVIDIA H100 80GB HBM3)'), and
    whether that device computes in bfloat16 natively."""

    backend: str
    name: str
    is_gpu: bool
    has_bfloat16: bool


@contextmanager
def quiet_stderr():
    """Keep C++ start-up chatter (CUDA probing on CPU machines, XLA banners) off the user's terminal."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def import_keras():
    """Import Keras on the backend named by KERAS_BACKEND (default 'tensorflow'); returns the keras module.

    Raises BackendUnavailable when that backend is not installed.
    """
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # oneDNN kernels are off by default on non-Intel CPUs; on a 2-core AMD EPYC they cut VGG16's CPU time ~15%
    # (bench/embed.py). Read once, at import; set TF_ENABLE_ONEDNN_OPTS=0 to opt out.
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
    name = os.environ["KERAS_BACKEND"]
    if name not in BACKENDS:
        raise BackendUnavailable(f"KERAS_BACKEND={name!r} is not one screentime supports; use one of {', '.join(BACKENDS)}")
    if "keras" in sys.modules:
        return sys.modules["keras"]
    try:
        with quiet_stderr():
            import keras

            if name == "tensorflow":  # probes CUDA while stderr is muted
                import tensorflow as tf

                tf.config.list_physical_devices("GPU")
    except ImportError as err:
        raise BackendUnavailable(
            f"KERAS_BACKEND={name} but {err.name or name} is not installed; pip install {name} or choose another backend"
        ) from None
    return keras


def backend_name() -> str:
    return import_keras().backend.backend()


def current_device() -> Device:
    """The device Keras computes on under the current backend (the first GPU when there is one)."""
    name = backend_name()
    if name == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        if not gpus:  # oneDNN computes bfloat16 with the CPU's own units where it has them
            return Device(name, "CPU", False, bool(native_bfloat16()))
        details = tf.config.experimental.get_device_details(gpus[0])
        cc = details.get("compute_capability") or (0, 0)
        return Device(name, f"GPU:0 ({details.get('device_name', gpus[0].name)})", True, tuple(cc) >= (8, 0))
    if name == "jax":
        import jax

        device = jax.devices()[0]
        if device.platform == "cpu":
            return Device(name, "CPU", False, False)
        cc = str(getattr(device, "compute_capability", "0.0")).split(".")
        has_bf16 = device.platform == "tpu" or (int(cc[0]) if cc[0].isdigit() else 0) >= 8
        return Device(name, f"{device.platform.upper()}:{device.id} ({device.device_kind})", True, has_bf16)
    import torch

    if torch.cuda.is_available():
        return Device(name, f"GPU:0 ({torch.cuda.get_device_name(0)})", True, torch.cuda.is_bf16_supported())
    return Device(name, "CPU", False, False)


def check_precision(precision: str, device: Device, allow_emulated: bool = False) -> None:
    """Raise PrecisionUnsupported (one line) if Keras on `device` cannot compute in `precision` natively."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if precision == "int8":
        raise PrecisionUnsupported("--precision int8 runs on OpenVINO, not Keras: use --runtime openvino")
    if precision == "bfloat16" and not device.has_bfloat16 and not allow_emulated:
        raise PrecisionUnsupported(bfloat16_refusal(device))


def bfloat16_refusal(device: Device) -> str:
    """Why bfloat16 is refused on `device`, and what to do, in one line."""
    needs = ("--precision bfloat16 needs bfloat16 in hardware (a CPU with AVX-512 BF16 or AMX, an NVIDIA GPU of "
             "compute capability 8.0+, or a TPU)")
    if device.is_gpu:
        return f"{needs}; Keras ({device.backend}) runs on {device.name}, which has no bfloat16 units: use --precision float32"
    if native_bfloat16():  # the CPU has the units, but this backend does not compute bfloat16 with them
        return (f"{needs}; Keras on {device.backend} does not use this CPU's ({native_bfloat16()}): use "
                "KERAS_BACKEND=tensorflow or --runtime openvino, or --precision float32")
    return (f"{needs}; this CPU ({cpu_model() or 'unknown'}) would only emulate it, slower than float32: "
            "use --precision float32 (or --precision int8 with OpenVINO)")


@contextmanager
def dtype_policy(precision: str):
    """Build layers under Keras' mixed policy for `precision` (float32 weights, bfloat16 arithmetic)."""
    keras = import_keras()
    before = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_bfloat16" if precision == "bfloat16" else "float32")
    try:
        yield
    finally:
        keras.config.set_dtype_policy(before)


def compile_forward(model, input_shape: tuple[int, int, int], batch_size: int) -> Callable[[np.ndarray], np.ndarray]:
    """A compiled inference function: (n, *input_shape) float32 -> (n, ...) float32 NumPy.

    One graph serves every batch: TensorFlow traces once for any batch size; JAX compiles one shape, so
    shorter batches are padded to `batch_size`. A batch of one is padded to two on every backend: kernels
    chosen for a single image round differently, and a sample's features must not depend on its batch.
    """
    name = backend_name()
    if name == "tensorflow":
        import tensorflow as tf

        graph = tf.function(lambda x: model(x, training=False),
                            input_signature=[tf.TensorSpec((None, *input_shape), tf.float32)])
        return _padded(lambda x: np.asarray(graph(tf.convert_to_tensor(x, dtype=tf.float32))), 2)
    if name == "jax":
        import jax

        trainable = [v.value for v in model.trainable_variables]
        frozen = [v.value for v in model.non_trainable_variables]
        step = jax.jit(lambda tv, ntv, x: model.stateless_call(tv, ntv, x, training=False)[0])
        return _padded(lambda x: np.asarray(step(trainable, frozen, x)), batch_size, fixed=True)
    import torch

    from keras import ops

    def forward(x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return ops.convert_to_numpy(model(ops.convert_to_tensor(x), training=False))

    return _padded(forward, 2)


def _padded(forward: Callable[[np.ndarray], np.ndarray], size: int, fixed: bool = False):
    """Call `forward` on batches padded with zeros to at least `size` rows (exactly `size` when `fixed`)."""

    def call(batch: np.ndarray) -> np.ndarray:
        n = len(batch)
        if fixed and n > size:
            return np.concatenate([call(batch[i:i + size]) for i in range(0, n, size)])
        if n >= size and not fixed or n == size:
            return np.asarray(forward(batch)).astype(np.float32, copy=False)
        pad = np.zeros((size - n, *batch.shape[1:]), dtype=batch.dtype)
        return np.asarray(forward(np.concatenate([batch, pad])))[:n].astype(np.float32, copy=False)

    return call
