"""`--weights auto`: pretrained weights wherever they can be had, random weights only when asked.

In order: ImageNet VGG16 from the Keras cache; else from the network (Keras downloads them once, with a progress
bar, when the first sample needs them); else, when no backbone was asked for, the first packaged backbone that is
installed (`backbones.AUTO_FALLBACK`: weights inside a pip package, offline), with one line saying so. Whether the
network answers is asked with one small request, without importing Keras.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass

from featurestore.errors import WeightsUnavailable

from .backbones import AUTO_FALLBACK, BACKBONES, DEFAULT_BACKBONE, backbone, installed_backbones
from .config import IMAGENET_NOTOP_FILE, imagenet_weights_path

#: Where Keras downloads VGG16's ImageNet weights from (keras.applications.vgg16.WEIGHTS_PATH_NO_TOP).
IMAGENET_URL = "https://storage.googleapis.com/tensorflow/keras-applications/vgg16/" + IMAGENET_NOTOP_FILE
PROBE_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class AutoWeights:
    """What `--weights auto` chose: the backbone, its weights ('imagenet'), and a line to show ('' if none)."""

    backbone: str
    weights: str
    note: str = ""


def imagenet_reachable(timeout_s: float = PROBE_TIMEOUT_S) -> tuple[bool, str]:
    """Whether Keras' download of VGG16's ImageNet weights would start (a HEAD request), and why not."""
    try:
        with urllib.request.urlopen(urllib.request.Request(IMAGENET_URL, method="HEAD"), timeout=timeout_s):
            return True, ""
    except (urllib.error.URLError, OSError, ValueError) as err:
        reason = getattr(err, "reason", err)
        return False, str(reason)[:80]


def resolve_auto(backbone_name: str | None = None) -> AutoWeights:
    """The pretrained weights `--weights auto` gives for `backbone_name` (None: any backbone, VGG16 first).

    Raises
    ------
    WeightsUnavailable
        VGG16 was asked for and its ImageNet weights are neither cached nor downloadable, or no pretrained
        weights are to be had at all; the message says what to install, or to pass --weights random.
    """
    if backbone_name is not None and backbone(backbone_name).is_packaged:
        BACKBONES[backbone_name].imagenet_weights()  # installed and the checked file, else one line now
        return AutoWeights(backbone_name, "imagenet")
    if imagenet_weights_path() is not None:
        return AutoWeights(DEFAULT_BACKBONE, "imagenet")
    reachable, why = imagenet_reachable()
    if reachable:
        return AutoWeights(DEFAULT_BACKBONE, "imagenet")  # Keras downloads them when the first sample needs them
    if backbone_name is not None:
        raise WeightsUnavailable(f"--backbone vgg16 --weights auto: ImageNet VGG16 weights are not in the Keras cache and "
                                 f"cannot be downloaded ({why}, offline?); connect once, or pass --weights FILE, "
                                 "--weights random (not pretrained) or another --backbone")
    installed = installed_backbones()
    if installed:
        name = installed[0]
        return AutoWeights(name, "imagenet", f"ImageNet VGG16 weights are not in the Keras cache and cannot be downloaded "
                                             f"({why}, offline?): using {name} with the ImageNet weights installed with "
                                             f"{BACKBONES[name].package} (--backbone {name})")
    raise WeightsUnavailable(f"no pretrained weights here: ImageNet VGG16 weights are not in the Keras cache and cannot be "
                             f"downloaded ({why}, offline?), and no packaged backbone is installed ("
                             f"{BACKBONES[AUTO_FALLBACK[0]].install}); pass --weights random for features that are not "
                             "pretrained")
