"""Frames -> VGG16 input in NumPy and OpenCV only, so decoding processes never import Keras."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

#: ImageNet mean of the B, G and R channels that `vgg16.preprocess_input` ("caffe" mode) subtracts.
CAFFE_MEAN_BGR = np.array([103.939, 116.779, 123.68], dtype=np.float32)


@dataclass(frozen=True)
class VGG16Preprocessor:
    """BGR uint8 frames -> VGG16 input, in NumPy and OpenCV only (picklable: decoding processes run it).

    Equal, bit for bit, to resizing with INTER_AREA, converting to RGB and applying Keras'
    `vgg16.preprocess_input` (which turns RGB back into BGR and subtracts the ImageNet mean).
    """
    image_size_px: int

    def __call__(self, frames_bgr: list[np.ndarray]) -> np.ndarray:
        """(n, image_size_px, image_size_px, 3) float32 from n frames of any size."""
        size = self.image_size_px
        batch = np.empty((len(frames_bgr), size, size, 3), dtype=np.float32)
        for i, frame in enumerate(frames_bgr):
            batch[i] = cv2.resize(frame, (size, size), interpolation=cv2.INTER_AREA)
        batch -= CAFFE_MEAN_BGR
        return batch
