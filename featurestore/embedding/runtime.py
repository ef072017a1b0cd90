"""Which runtime runs the network: the embedder factory the pipeline uses, and what this machine can run.

`build_embedder(config)` gives a `VGG16Embedder` (Keras, on KERAS_BACKEND; any backbone) or an `OpenVINOEmbedder`
as `config.runtime` says; both take preprocessed frames from the same backbone's `FramePreprocessor`, so decoding
workers never import either.
"""

from __future__ import annotations

import importlib.util

from .backbones import BACKBONES
from .config import PRECISIONS, EmbeddingConfig
from .cpu import native_bfloat16
from .preprocess import FramePreprocessor, preprocessor_for


class EmbedderFactory:
    """`make_embedder` for the pipeline: the embedder of `config.runtime`, built once per run."""

    takes_batch_size = True

    def __call__(self, config: EmbeddingConfig, batch_size: int = 32):
        if config.runtime == "openvino":
            from .openvino import OpenVINOEmbedder

            return OpenVINOEmbedder(config, batch_size=batch_size)
        from .vgg16 import VGG16Embedder

        return VGG16Embedder(config, batch_size=batch_size)

    @staticmethod
    def preprocessor_for(config: EmbeddingConfig) -> FramePreprocessor:
        """The preprocessing either runtime applies, without loading a network."""
        return preprocessor_for(BACKBONES[config.backbone], config.image_size_px)

    @staticmethod
    def check(config: EmbeddingConfig) -> None:
        """Refuse, in one line and before any work, a runtime or precision this machine cannot run natively.

        Raises RuntimeUnavailable or PrecisionUnsupported, or WeightsUnavailable for ImageNet weights that are
        neither cached nor downloadable (offline); builds no network but to fetch those weights once.
        """
        from .vgg16 import check_imagenet_weights

        if config.runtime == "openvino":
            from .openvino import check_int8_offered, check_openvino

            check_int8_offered(config)
            check_openvino(config.precision)
        else:
            from .backend import check_precision, current_device

            check_precision(config.precision, current_device())
        check_imagenet_weights(config)


build_embedder = EmbedderFactory()


def available() -> dict[str, list[str]]:
    """runtime -> the precisions it runs natively on this machine's CPU (what `--version` and the benches list).

    Keras on a GPU decides bfloat16 by the GPU; this says what the CPU gives.
    """
    bf16 = bool(native_bfloat16())
    out = {"keras": [p for p in PRECISIONS if p == "float32" or (p == "bfloat16" and bf16)]}
    if importlib.util.find_spec("openvino") is not None:
        out["openvino"] = [p for p in PRECISIONS if p == "float32" or (p == "bfloat16" and bf16)
                           or (p == "int8" and importlib.util.find_spec("nncf") is not None)]
    return out


def describe_available() -> str:
    """One line: the runtimes and precisions this CPU runs natively, e.g. for `screentime --version`."""
    from .cpu import cpu_model, native_int8

    bf16, int8 = native_bfloat16(), native_int8()
    runs = "; ".join(f"{runtime} {', '.join(precisions)}" for runtime, precisions in available().items())
    units = ", ".join(x for x in (bf16 and f"bfloat16 by {bf16}", int8 and f"int8 by {int8}") if x) or "no bfloat16 units"
    return f"runtimes on this CPU ({cpu_model() or 'unknown'}; {units}): {runs}"
