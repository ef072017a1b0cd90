"""The network on OpenVINO (CPU): the Keras network (any backbone) converted once per config and compiled with its
precision's hint; int8 by NNCF post-training quantisation on the fixed calibration frames (calibration.py).

Converted (and quantised) networks are kept in a cache folder (``$SCREENTIME_CACHE``, else
``~/.cache/screentime``), keyed by the config's identity and the versions of the libraries that build them, so a
later run loads one in about a second instead of converting and calibrating again. The cache only saves time:
a network built again gives the same features. OpenVINO and NNCF are an extra: ``pip install -e '.[openvino]'``.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np

from featurestore.errors import PrecisionUnsupported, RuntimeUnavailable

from .config import EmbeddingConfig, screentime_cache
from .cpu import cpu_model, native_bfloat16
from .backbones import BACKBONES
from .preprocess import preprocessor_for

#: OpenVINO's precision hint for each precision: int8 layers run in int8, and the few layers NNCF leaves
#: unquantised in float32 (bf16 there measured no faster on this project's machine).
HINTS = {"float32": "f32", "bfloat16": "bf16", "int8": "f32"}


def import_openvino(precision: str = "float32"):
    """The openvino module (and nncf for int8); RuntimeUnavailable in one line when they are not installed."""
    try:
        import openvino
    except ImportError:
        raise RuntimeUnavailable("--runtime openvino needs OpenVINO, which is not installed: "
                                 "pip install -e '.[openvino]' (or use --runtime keras)") from None
    if precision == "int8":
        try:
            import nncf  # noqa: F401
        except ImportError:
            raise RuntimeUnavailable("--precision int8 needs NNCF to quantise the network, which is not installed: "
                                     "pip install -e '.[openvino]'") from None
    return openvino


def check_openvino(precision: str, core=None) -> None:
    """RuntimeUnavailable or PrecisionUnsupported, in one line, unless OpenVINO runs `precision` natively here."""
    ov = import_openvino(precision)
    if precision == "bfloat16":
        core = core or ov.Core()
        if not ("BF16" in core.get_property("CPU", "OPTIMIZATION_CAPABILITIES") and native_bfloat16()):
            raise PrecisionUnsupported(f"--precision bfloat16 needs bfloat16 in hardware (a CPU with AVX-512 BF16 or "
                                       f"AMX); this CPU ({cpu_model() or 'unknown'}) would only emulate it: use "
                                       "--precision float32 or int8")


def check_int8_offered(config: EmbeddingConfig) -> None:
    """PrecisionUnsupported, in one line, for int8 of a backbone whose features it keeps too little of."""
    net = BACKBONES[config.backbone]
    if config.precision == "int8" and net.int8_refusal:
        raise PrecisionUnsupported(f"--precision int8 is not offered for --backbone {net.name}: {net.int8_refusal}; "
                                   "use --precision float32 (or bfloat16 where the machine has it)")


def openvino_versions() -> dict[str, str | None]:
    """Versions of the libraries that build and run the OpenVINO network (None where not installed)."""
    from featurestore.provenance import library_versions

    versions = library_versions(("openvino", "nncf", "keras"))
    versions.pop("python", None)
    return versions


def cache_dir() -> Path:
    return screentime_cache("openvino")


class OpenVINOEmbedder:
    """The network of `config` on OpenVINO's CPU plugin; the same interface as `VGG16Embedder`.

    Attributes
    ----------
    device : str
        'CPU'.
    backend, runtime : str
        'openvino', and 'openvino <version>' (recorded with each video).
    calibration : str
        int8: digest of the preprocessed calibration batch the network was quantised on ('' otherwise).
    """

    def __init__(self, config: EmbeddingConfig, batch_size: int = 32, *, allow_refused_int8: bool = False):
        if not allow_refused_int8:  # benches measure what int8 would keep (bench/_fidelity.py)
            check_int8_offered(config)
        ov = import_openvino(config.precision)
        core = ov.Core()
        check_openvino(config.precision, core)
        self.config = config
        self.device = "CPU"
        self.backend = "openvino"
        self.runtime = f"openvino {ov.__version__.split('-')[0]}"
        self.preprocessor = preprocessor_for(BACKBONES[config.backbone], config.image_size_px)
        model, self.calibration = network(config, core)
        self._compiled = core.compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": HINTS[config.precision],
                                                           "PERFORMANCE_HINT": "LATENCY"})

    def preprocess(self, frames_bgr: list[np.ndarray]) -> np.ndarray:
        return self.preprocessor(frames_bgr)

    def embed(self, batch: np.ndarray) -> np.ndarray:
        """Features of a preprocessed batch: (n, size, size, 3) -> (n, n_features) float32."""
        batch = np.ascontiguousarray(batch, dtype=np.float32)
        out = self._compiled(batch)[self._compiled.output(0)]
        return np.asarray(out, dtype=np.float32).reshape(len(batch), -1)


def network(config: EmbeddingConfig, core) -> tuple[object, str]:
    """The OpenVINO model of `config` (quantised for int8), from the cache or built and cached; and its calibration."""
    key = hashlib.sha256(json.dumps({"identity": config.identity(), **openvino_versions()}, sort_keys=True).encode())
    xml = cache_dir() / f"{config.backbone}-{key.hexdigest()[:20]}.xml"
    meta = xml.with_suffix(".json")
    if xml.exists() and xml.with_suffix(".bin").exists() and meta.exists():
        try:
            return core.read_model(str(xml)), json.loads(meta.read_text()).get("calibration", "")
        except (RuntimeError, ValueError, OSError):
            pass  # a damaged cache entry: build it again
    model, calibration = build_network(config)
    _save(model, xml, {"identity": config.identity(), "calibration": calibration, **openvino_versions()})
    return model, calibration


def build_network(config: EmbeddingConfig) -> tuple[object, str]:
    """Convert the Keras network of `config` to OpenVINO; for int8, quantise it with NNCF on the calibration frames."""
    import openvino as ov

    from .vgg16 import build_network as keras_network

    keras_model = keras_network(EmbeddingConfig(weights=config.weights, pooling=config.pooling, backbone=config.backbone,
                                                image_size_px=config.image_size_px, weights_id=config.weights_id))
    with tempfile.TemporaryDirectory(prefix="screentime-ov-") as tmp:
        path = Path(tmp) / "network.xml"
        keras_model.export(str(path), format="openvino", verbose=False)
        model = ov.Core().read_model(str(path))
        if config.precision != "int8":
            return model.clone(), ""  # a copy that no longer reads the file about to be deleted
        import nncf

        from .calibration import calibration_frames, digest

        batch = preprocessor_for(BACKBONES[config.backbone], config.image_size_px)(calibration_frames())
        dataset = nncf.Dataset([batch[i:i + 8] for i in range(0, len(batch), 8)])
        quantized = nncf.quantize(model, dataset, subset_size=-(-len(batch) // 8))  # every batch
        return quantized.clone(), digest(batch)


def _save(model, xml: Path, meta: dict) -> None:
    """Write the model and its description into the cache atomically (a reader sees all of it or none)."""
    import openvino as ov

    try:
        xml.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=xml.parent, prefix=".tmp-") as tmp:
            tmp_xml = Path(tmp) / xml.name
            ov.save_model(model, str(tmp_xml), compress_to_fp16=False)
            Path(tmp, meta_name := xml.with_suffix(".json").name).write_text(json.dumps(meta, sort_keys=True))
            os.replace(tmp_xml.with_suffix(".bin"), xml.with_suffix(".bin"))
            os.replace(Path(tmp, meta_name), xml.with_suffix(".json"))
            os.replace(tmp_xml, xml)
    except OSError:
        pass  # an unwritable cache only costs the next run the conversion
