"""Frames -> network input in NumPy and OpenCV only, so decoding processes never import Keras."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .backbones import CAFFE_MEAN_BGR, Backbone


@dataclass(frozen=True)
class FramePreprocessor:
    """BGR uint8 frames -> a backbone's input, in NumPy and OpenCV only (picklable: decoding processes run it).

    Each frame is resized to image_size_px × image_size_px with INTER_AREA, turned to RGB when `rgb`, then
    (x - mean) / std per channel (`std` None: no division), in float32.
    """
    image_size_px: int
    rgb: bool = False
    mean: tuple[float, float, float] = CAFFE_MEAN_BGR  # what vgg16.preprocess_input ("caffe") subtracts
    std: tuple[float, float, float] | None = None

    def __call__(self, frames_bgr: list[np.ndarray]) -> np.ndarray:
        """(n, image_size_px, image_size_px, 3) float32 from n frames of any size."""
        size = self.image_size_px
        batch = np.empty((len(frames_bgr), size, size, 3), dtype=np.float32)
        for i, frame in enumerate(frames_bgr):
            resized = cv2.resize(frame, (size, size), interpolation=cv2.INTER_AREA)
            batch[i] = resized[..., ::-1] if self.rgb else resized
        batch -= np.asarray(self.mean, dtype=np.float32)
        if self.std is not None:
            batch /= np.asarray(self.std, dtype=np.float32)
        return batch


@dataclass(frozen=True)
class VGG16Preprocessor(FramePreprocessor):
    """VGG16's: equal, bit for bit, to resizing with INTER_AREA, converting to RGB and applying Keras'
    `vgg16.preprocess_input` (which turns RGB back into BGR and subtracts the ImageNet mean)."""


def preprocessor_for(net: Backbone, image_size_px: int) -> FramePreprocessor:
    """The preprocessing of backbone `net` at `image_size_px`."""
    if net.name == "vgg16":
        return VGG16Preprocessor(image_size_px)
    return FramePreprocessor(image_size_px, rgb=net.rgb, mean=net.mean, std=net.std)
